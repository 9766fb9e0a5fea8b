//! The pages: embedded templates with `{{key}}` filled from the labels, escaped.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

use crate::i18n::{label, script_labels, Lang};
use crate::AppState;

const SHELL: &str = include_str!("../assets/shell.html");
const VALIDATE: &str = include_str!("../assets/validate.html");
const STANDIN: &str = include_str!("../assets/standin.html");
const SESSION: &str = include_str!("../assets/session.html");
const REPORTS: &str = include_str!("../assets/reports.html");
const CSS: &str = include_str!("../assets/style.css");
const JS: &str = include_str!("../assets/app.js");

/// The pages in navigation order: `(path, label key, template)`.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("validate", "nav.validate", VALIDATE),
    ("standin", "nav.standin", STANDIN),
    ("session", "nav.session", SESSION),
    ("reports", "nav.reports", REPORTS),
];

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// A value put into a template.
pub enum Value {
    /// Escaped on the way in.
    Text(String),
    /// Markup made here.
    Html(String),
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `{{key}}` from `vars`, then from the labels. An unknown key is a bug in a
/// template (the tests render every page and look for leftovers).
pub fn fill(template: &str, lang: Lang, vars: &[(&str, Value)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..end];
        match vars.iter().find(|(k, _)| *k == key) {
            Some((_, Value::Text(t))) => out.push_str(&escape(t)),
            Some((_, Value::Html(h))) => out.push_str(h),
            None => match label(lang, key) {
                Some(l) => out.push_str(&escape(l)),
                None => {
                    out.push_str("{{");
                    out.push_str(key);
                    out.push_str("}}");
                }
            },
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A whole page: the shell with its navigation around `page`'s template.
pub fn render(state: &AppState, page: &str, lang: Lang) -> String {
    let (_, title_key, template) = PAGES
        .iter()
        .find(|(p, _, _)| *p == page)
        .copied()
        .unwrap_or(PAGES[0]);
    let q = match lang {
        Lang::Sv => "?lang=sv",
        Lang::En => "",
    };
    let mut nav = String::new();
    for (p, key, _) in PAGES {
        let current = if *p == page {
            " aria-current=\"page\""
        } else {
            ""
        };
        nav.push_str(&format!(
            "<li><a href=\"/{p}{q}\"{current}>{}</a></li>",
            escape(label(lang, key).unwrap_or(key))
        ));
    }
    let other = match lang {
        Lang::En => ("sv", "sv"),
        Lang::Sv => ("en", "en"),
    };
    nav.push_str(&format!(
        "<li><a href=\"/{page}?lang={}\" lang=\"{}\">{}</a></li>",
        other.0,
        other.1,
        escape(label(lang, "nav.lang").unwrap_or("")),
    ));
    let v = &state.cfg.validators[0];
    let mut options = String::new();
    for (i, x) in state.cfg.validators.iter().enumerate() {
        let selected = if i == 0 { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{}\"{selected}>{}</option>",
            escape(&x.info().id),
            escape(&x.info().to_string())
        ));
    }
    let main = fill(
        template,
        lang,
        &[
            ("schema_options", Value::Html(options)),
            ("max_bytes", Value::Text(v.options().max_bytes.to_string())),
            (
                "data_dir",
                Value::Text(
                    state
                        .cfg
                        .data_dir
                        .as_ref()
                        .map_or_else(|| "-".into(), |d| d.display().to_string()),
                ),
            ),
            (
                "reports_dir",
                Value::Text(state.cfg.reports.display().to_string()),
            ),
            ("lang", Value::Text(lang.code().into())),
        ],
    );
    // `</` would end the script element early.
    let labels = script_labels(lang).replace("</", "<\\/");
    fill(
        SHELL,
        lang,
        &[
            ("lang", Value::Text(lang.code().into())),
            ("page", Value::Text(page.into())),
            (
                "title",
                Value::Text(label(lang, title_key).unwrap_or("").into()),
            ),
            ("nav", Value::Html(nav)),
            ("main", Value::Html(main)),
            ("labels", Value::Html(labels)),
        ],
    )
}

fn page(state: &AppState, name: &str, q: &LangQuery) -> Html<String> {
    Html(render(state, name, Lang::from_query(q.lang.as_deref())))
}

pub async fn validate(State(s): State<Arc<AppState>>, Query(q): Query<LangQuery>) -> Html<String> {
    page(&s, "validate", &q)
}

pub async fn standin(State(s): State<Arc<AppState>>, Query(q): Query<LangQuery>) -> Html<String> {
    page(&s, "standin", &q)
}

pub async fn session(State(s): State<Arc<AppState>>, Query(q): Query<LangQuery>) -> Html<String> {
    page(&s, "session", &q)
}

pub async fn reports(State(s): State<Arc<AppState>>, Query(q): Query<LangQuery>) -> Html<String> {
    page(&s, "reports", &q)
}

pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS)
}

pub async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
}
