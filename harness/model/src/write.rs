//! Model -> XML. Hand-written rather than serde-driven: element order, the default
//! namespace and the "true"-only markers must come out exactly as the schema wants.

use crate::{Anordnare, Anstallning, Arbetsgivare, Bosatt, Notification, PAYLOAD_NS};
use quick_xml::escape::escape;
use std::fmt::Write;

struct Out {
    s: String,
    depth: usize,
}

impl Out {
    fn open(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.s, "<{name}>");
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.s, "</{name}>");
    }
    fn leaf(&mut self, name: &str, value: &str) {
        self.indent();
        let _ = writeln!(self.s, "<{name}>{}</{name}>", escape(value));
    }
    fn opt(&mut self, name: &str, value: Option<&String>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.s.push_str("  ");
        }
    }
}

pub(crate) fn notification(n: &Notification) -> String {
    let mut o = Out {
        s: String::with_capacity(1536),
        depth: 1,
    };
    o.s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(o.s, "<AnmalanFranArbetsgivare xmlns=\"{PAYLOAD_NS}\">");
    o.leaf("id", &n.id);
    o.open("personSomHarAssistans");
    o.leaf("personnummer", &n.person.personnummer);
    o.leaf("fornamn", &n.person.fornamn);
    o.leaf("efternamn", &n.person.efternamn);
    o.close("personSomHarAssistans");

    let a = &n.assistent;
    o.open("assistent");
    o.leaf("personnummer", &a.personnummer);
    o.leaf("fornamn", &a.fornamn);
    o.leaf("efternamn", &a.efternamn);
    o.leaf("anstallningsdatum", &a.anstallningsdatum);
    o.leaf("narstaende", if a.narstaende { "true" } else { "false" });
    match &a.bosatt {
        Bosatt::InnanforEes => o.leaf("bosattInnanforEES", "true"),
        Bosatt::UtanforEes { adress } => {
            o.open("bosattUtanforEES");
            o.leaf("bosattUtanfor", "true");
            o.leaf("adress", adress);
            o.close("bosattUtanforEES");
        }
    }
    o.opt("andringGallerFrom", a.andring_galler_from.as_ref());
    o.close("assistent");

    match &n.arbetsgivare {
        Arbetsgivare::PersonSomHarAssistans => o.leaf("anstalldAvPersonSomHarAssistans", "true"),
        Arbetsgivare::Anordnare(an) => anordnare(&mut o, an),
    }
    o.leaf("telefonnummerAnordnare", &n.telefonnummer_anordnare);
    o.s.push_str("</AnmalanFranArbetsgivare>\n");
    o.s
}

fn anordnare(o: &mut Out, an: &Anordnare) {
    o.open("assistansanordnare");
    o.opt("anordnareNamn", an.namn.as_ref());
    o.leaf("organisationsnummer", &an.organisationsnummer);
    o.opt("kontaktperson", an.kontaktperson.as_ref());
    o.opt("telefonnummer", an.telefonnummer.as_ref());
    match &an.anstallning {
        Anstallning::AnstalldAvAnordnare => o.leaf("assistentAnstalldAvAnordnare", "true"),
        Anstallning::AnnanArbetsgivare {
            namn,
            organisationsnummer,
        } => {
            o.open("annanArbetsgivare");
            o.opt("arbetsgivareNamn", namn.as_ref());
            o.leaf("organisationsnummer", organisationsnummer);
            o.close("annanArbetsgivare");
        }
        Anstallning::EgenForetagare => o.leaf("assistentEgenForetagare", "true"),
    }
    o.close("assistansanordnare");
}
