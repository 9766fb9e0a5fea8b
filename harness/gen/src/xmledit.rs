//! Line-level editing of the XML that `Notification::to_xml` writes: one element per
//! line, containers opened and closed on lines of their own. Mutations work on this
//! text, not on the model, so that they can express what the model cannot.

#[derive(Debug, Clone)]
pub(crate) struct El {
    pub name: String,
    /// First and last line (inclusive); equal for a leaf.
    pub first: usize,
    pub last: usize,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub leaf: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub lines: Vec<String>,
    pub els: Vec<El>,
}

fn tag_name(s: &str) -> &str {
    let end = s.find(['>', ' ', '/']).unwrap_or(s.len());
    &s[..end]
}

impl Doc {
    pub fn parse(xml: &str) -> Doc {
        let lines: Vec<String> = xml.lines().map(str::to_string).collect();
        let mut els: Vec<El> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if t.starts_with("<?") || t.starts_with("<!") || !t.starts_with('<') {
                continue;
            }
            if let Some(rest) = t.strip_prefix("</") {
                let _ = rest;
                if let Some(open) = stack.pop() {
                    els[open].last = i;
                }
                continue;
            }
            let name = tag_name(&t[1..]).to_string();
            let leaf = t.contains("</");
            let idx = els.len();
            let parent = stack.last().copied();
            els.push(El {
                name,
                first: i,
                last: i,
                parent,
                children: Vec::new(),
                leaf,
            });
            if let Some(p) = parent {
                els[p].children.push(idx);
            }
            if !leaf {
                stack.push(idx);
            }
        }
        Doc { lines, els }
    }

    pub fn render(lines: &[String]) -> String {
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }

    pub fn find(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        let name = name.to_string();
        self.els
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.name == name)
            .map(|(i, _)| i)
    }

    /// The element's parent-relative path, for mutation details.
    pub fn path(&self, i: usize) -> String {
        let mut parts = vec![self.els[i].name.clone()];
        let mut p = self.els[i].parent;
        while let Some(q) = p {
            parts.push(self.els[q].name.clone());
            p = self.els[q].parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    pub fn next_sibling(&self, i: usize) -> Option<usize> {
        let p = self.els[i].parent?;
        let sibs = &self.els[p].children;
        let pos = sibs.iter().position(|&c| c == i)?;
        sibs.get(pos + 1).copied()
    }

    pub fn block(&self, i: usize) -> Vec<String> {
        self.lines[self.els[i].first..=self.els[i].last].to_vec()
    }

    pub fn remove(&self, i: usize) -> String {
        let e = &self.els[i];
        let mut l = self.lines.clone();
        l.drain(e.first..=e.last);
        Doc::render(&l)
    }

    /// Inserts `new` lines before line `at`.
    pub fn insert_lines(&self, at: usize, new: Vec<String>) -> String {
        let mut l = self.lines.clone();
        l.splice(at..at, new);
        Doc::render(&l)
    }

    /// Swaps two adjacent sibling elements (`a` directly before `b`).
    pub fn swap(&self, a: usize, b: usize) -> String {
        let (ea, eb) = (&self.els[a], &self.els[b]);
        let mut l: Vec<String> = self.lines[..ea.first].to_vec();
        l.extend(self.block(b));
        l.extend(self.block(a));
        l.extend(self.lines[eb.last + 1..].iter().cloned());
        Doc::render(&l)
    }

    /// The raw text between a leaf's tags.
    pub fn value(&self, i: usize) -> String {
        let line = &self.lines[self.els[i].first];
        let open = line.find('>').map_or(0, |p| p + 1);
        let close = line.rfind("</").unwrap_or(line.len());
        line[open..close.max(open)].to_string()
    }

    /// Replaces a leaf's text with `raw` (not escaped).
    pub fn set_value(&self, i: usize, raw: &str) -> String {
        let mut l = self.lines.clone();
        let line = &l[self.els[i].first];
        let open = line.find('>').map_or(0, |p| p + 1);
        let close = line.rfind("</").unwrap_or(line.len());
        l[self.els[i].first] = format!("{}{raw}{}", &line[..open], &line[close..]);
        Doc::render(&l)
    }

    /// Adds `attr` (e.g. `a="1"`) to the start tag of element `i`.
    pub fn add_attribute(&self, i: usize, attr: &str) -> String {
        let mut l = self.lines.clone();
        let line = &l[self.els[i].first];
        let lt = line.find('<').unwrap_or(0);
        let name_end = lt + 1 + tag_name(&line[lt + 1..]).len();
        l[self.els[i].first] = format!("{} {attr}{}", &line[..name_end], &line[name_end..]);
        Doc::render(&l)
    }

    pub fn indent(&self, i: usize) -> String {
        let line = &self.lines[self.els[i].first];
        line[..line.len() - line.trim_start().len()].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_edits() {
        let xml = "<?xml version=\"1.0\"?>\n<r xmlns=\"u\">\n  <a>1</a>\n  <b>\n    <c>2</c>\n  </b>\n</r>\n";
        let d = Doc::parse(xml);
        assert_eq!(d.els.len(), 4);
        assert_eq!(d.els[0].children, vec![1, 2]);
        assert_eq!(d.els[2].last, 5);
        assert_eq!(d.value(3), "2");
        assert_eq!(d.path(3), "/r/b/c");
        assert_eq!(d.next_sibling(1), Some(2));
        assert_eq!(d.next_sibling(2), None);
        assert_eq!(
            d.swap(1, 2),
            "<?xml version=\"1.0\"?>\n<r xmlns=\"u\">\n  <b>\n    <c>2</c>\n  </b>\n  <a>1</a>\n</r>\n"
        );
        assert!(d
            .add_attribute(0, "x=\"1\"")
            .contains("<r x=\"1\" xmlns=\"u\">"));
        assert!(d.set_value(1, "&").contains("  <a>&</a>\n"));
        assert!(!d.remove(2).contains("<c>"));
    }
}
