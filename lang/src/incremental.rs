//! Parsing a file one top-level item at a time. Items start at lines that
//! begin, outside every bracket, string, comment and heredoc, with an item's
//! keyword or an annotation; each item's text is parsed on its own. The
//! result is the tree a whole-file parse gives, with two gains: a syntax error
//! spoils only its own item (the others are still checked, and each broken
//! item reports its error), and an [`ItemCache`] reuses the tree of every item
//! whose text did not change, so an editor's keystroke re-parses one item.

use std::collections::HashMap;

use crate::ast::{Item, Module};
use crate::program::Parse;
use crate::shift::Shift;
use crate::span::{FileId, Span};

/// Keywords that begin a top-level item.
pub const ITEM_KEYWORDS: &[&str] = &[
    "workflow",
    "param",
    "let",
    "provider",
    "resource",
    "output",
    "phase",
    "use",
    "for",
    "if",
    "policy",
    "flag",
    "moved",
    "component",
    "instance",
    "task",
    "step",
    "hook",
];

/// Most items kept beyond those of the last parse; older ones are dropped first.
const SPARE_ITEMS: usize = 4096;

/// Trees of items parsed before, by their text, with spans counted from the
/// item's first byte.
#[derive(Debug, Default)]
pub struct ItemCache {
    trees: HashMap<String, (Vec<Item>, u64)>,
    /// Counts parses, to drop the trees unused the longest.
    tick: u64,
    /// Items parsed (not reused) by the last parse.
    parsed: usize,
}

impl ItemCache {
    /// Parses `text` as file `file`, reusing the trees of items seen before.
    pub fn parse(&mut self, file: FileId, text: &str) -> Parse {
        self.tick += 1;
        self.parsed = 0;
        let parse = parse_by_items(file, text, Some(self));
        if self.trees.len() > SPARE_ITEMS + parse.module.items.len() {
            let mut ticks: Vec<u64> = self.trees.values().map(|(_, t)| *t).collect();
            ticks.sort_unstable();
            let cut = ticks[ticks.len() - SPARE_ITEMS];
            self.trees.retain(|_, (_, t)| *t >= cut);
        }
        parse
    }

    /// How many items the last parse had to parse (the rest were reused).
    pub fn parsed_last(&self) -> usize {
        self.parsed
    }
}

/// Parses `text` item by item, through `cache` when one is given.
pub(crate) fn parse_by_items(file: FileId, text: &str, mut cache: Option<&mut ItemCache>) -> Parse {
    let line_starts = match crate::bounds::check(file, text) {
        Ok(starts) => starts,
        Err(error) => {
            return Parse {
                module: Module { items: Vec::new(), span: Span::new(file, 0, text.len()) },
                errors: vec![error],
                recovered: 0,
            }
        }
    };
    let starts = item_starts(text, &line_starts);
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut recovered = 0;
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        let reused = cache.as_deref_mut().and_then(|c| {
            let tick = c.tick;
            c.trees.get_mut(chunk).map(|(tree, used)| {
                *used = tick;
                tree.clone()
            })
        });
        let tree = match reused {
            Some(tree) => Ok(tree),
            None => {
                let parsed = crate::lower::parse_items(file, text, start, end);
                if let (Ok(tree), Some(c)) = (&parsed, cache.as_deref_mut()) {
                    c.parsed += 1;
                    c.trees.insert(chunk.to_string(), (tree.clone(), c.tick));
                }
                parsed
            }
        };
        match tree {
            Ok(mut tree) => {
                tree.shift(file, start as u32);
                items.extend(tree);
            }
            Err(error) => {
                errors.push(error);
                recovered += recover(file, text, start, end, &mut items, &mut errors);
            }
        }
    }
    // The file's span ends where its last item's text does, trailing whitespace
    // and comments left out. Items start outside comments, so the last one's
    // text is scanned alone, and it starts with a keyword, which the trimming
    // stops at (the first starts at 0, where it stops anyway).
    let last = starts.last().copied().unwrap_or(0);
    let tail = &text[last..];
    let end = last + crate::trivia::trim_end(tail, &crate::trivia::comments(tail), 0, tail.len());
    Parse { module: Module { items, span: Span::new(file, 0, end) }, errors, recovered }
}

/// Reads what it can of the broken item at `start..end` into `items`, and returns how many
/// broken items it read with their unclosed brackets closed. An unclosed block swallows the items
/// after it (they are inside its brackets, where no item starts): they are split off again at
/// the lines that begin an item at the left margin, and parsed (and mended) each on its own.
fn recover(
    file: FileId,
    text: &str,
    start: usize,
    end: usize,
    items: &mut Vec<Item>,
    errors: &mut Vec<crate::SyntaxError>,
) -> usize {
    let lines: Vec<usize> =
        text[start..end].match_indices('\n').map(|(i, _)| start + i + 1).filter(|&at| at < end).collect();
    let relative: Vec<usize> = std::iter::once(0).chain(lines.iter().map(|at| at - start)).collect();
    let mut starts: Vec<usize> = item_starts(&text[start..end], &relative).into_iter().map(|at| start + at).collect();
    starts.push(end);
    let mut mended = 0;
    for (i, pair) in starts.windows(2).enumerate() {
        let (from, to) = (pair[0], pair[1]);
        // The broken item itself failed already; the ones split off are parsed afresh.
        let parsed = if i == 0 { Err(None) } else { crate::lower::parse_items(file, text, from, to).map_err(Some) };
        let tree = match parsed {
            Ok(tree) => tree,
            Err(error) => {
                errors.extend(error);
                let Some(tree) = closed(file, text, from, to) else { continue };
                mended += 1;
                tree
            }
        };
        let mut tree = tree;
        tree.shift(file, from as u32);
        items.extend(tree);
    }
    mended
}

/// The tree of the item at `start..end` with its unclosed brackets closed at its end, when that
/// is all it lacks; spans as [`crate::lower::parse_items`] gives them.
fn closed(file: FileId, text: &str, start: usize, end: usize) -> Option<Vec<Item>> {
    let closers = unclosed(&text[start..end])?;
    let repaired = format!("{}\n{closers}\n", &text[..end]);
    crate::lower::parse_items(file, &repaired, start, repaired.len()).ok()
}

/// The closing brackets `item` lacks, innermost first; `None` when it lacks none, or ends inside
/// a string, a block comment or a heredoc (no closing bracket would mend those).
fn unclosed(item: &str) -> Option<String> {
    let bytes = item.as_bytes();
    let comments = crate::trivia::comments(item);
    let mut comments = comments.iter().peekable();
    let mut open = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(&(start, end)) = comments.next_if(|(start, _)| *start == i) {
            if item[start..].starts_with("/*") && !item[start..end].ends_with("*/") {
                return None;
            }
            i = end;
            continue;
        }
        if let Some(end) = crate::trivia::heredoc_end(item, i) {
            // An unclosed heredoc runs to the end.
            if end == item.len() {
                return None;
            }
            i = end;
            continue;
        }
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return None;
                }
            }
            b'{' => open.push('}'),
            b'[' => open.push(']'),
            b'(' => open.push(')'),
            b'}' | b']' | b')' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    (!open.is_empty()).then(|| open.iter().rev().map(|c| c.to_string()).collect::<Vec<_>>().join("\n"))
}

/// Where each item starts: the first at 0, then every top-level line that
/// begins with an item keyword or an annotation, except the item line right
/// after an annotation (the annotation's item starts with it).
fn item_starts(text: &str, line_starts: &[usize]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut annotated = text.starts_with('@');
    for &at in line_starts.iter().filter(|&&at| at > 0) {
        let line = &text[at..];
        if line.starts_with('@') {
            if !annotated {
                starts.push(at);
            }
            annotated = true;
        } else if begins_item(line) {
            if !annotated {
                starts.push(at);
            }
            annotated = false;
        }
    }
    starts
}

/// Whether `line` begins with an item keyword as a whole word.
fn begins_item(line: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|k| line.strip_prefix(k).is_some_and(|rest| rest.starts_with([' ', '\t', '{'])))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::diagnostic::Located;

    /// The tree of `text` parsed whole, as one item list.
    fn whole(text: &str) -> Result<Vec<Item>, crate::SyntaxError> {
        crate::bounds::check(FileId(0), text)?;
        crate::lower::parse_items(FileId(0), text, 0, text.len())
    }

    /// The whole file's span as a whole-file parse gives it: the text, its
    /// trailing whitespace and comments left out.
    fn whole_span(file: FileId, text: &str) -> Span {
        let comments = crate::trivia::comments(text);
        Span::new(file, 0, crate::trivia::trim_end(text, &comments, 0, text.len()))
    }

    fn drone_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() && name != "target" && !name.starts_with('.') {
                drone_files(&path, out);
            } else if name.ends_with(".drone") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_file_parses_item_by_item_as_it_does_whole() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        drone_files(&root, &mut files);
        assert!(files.len() > 50, "found {} files", files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let by_items = parse_by_items(FileId(0), &text, None);
            match whole(&text) {
                Ok(items) => {
                    assert!(by_items.errors.is_empty(), "{}: {:?}", path.display(), by_items.errors);
                    assert_eq!(by_items.module.span, whole_span(FileId(0), &text), "{}", path.display());
                    assert_eq!(by_items.module.items, items, "{}", path.display());
                }
                // The whole parse stops at the first error; so does the first broken item.
                Err(error) => assert_eq!(by_items.errors.first(), Some(&error), "{}", path.display()),
            }
        }
    }

    const FILE: &str = "workflow \"w\" {}\n\n// the logs\n@allow(data.x, reason = \"y\")\n// still the logs\nresource aws.logs.log_group a {\n  name = \"a\"\n}\ntask t {\n  script = <<RHAI\nresource in a heredoc {\nRHAI\n}\n\nlet s = \"${ {\n} }\"\nresource aws.logs.log_group b {\n  name = \"b\"\n}\n";

    #[test]
    fn items_start_at_keywords_outside_brackets_strings_and_heredocs() {
        let line_starts = crate::bounds::check(FileId(0), FILE).unwrap_or_default();
        let starts = item_starts(FILE, &line_starts);
        let firsts: Vec<&str> = starts.iter().map(|&s| FILE[s..].lines().next().unwrap_or_default()).collect();
        assert_eq!(
            firsts,
            [
                "workflow \"w\" {}",
                "@allow(data.x, reason = \"y\")",
                "task t {",
                "let s = \"${ {",
                "resource aws.logs.log_group b {"
            ]
        );
    }

    #[test]
    fn a_broken_item_spoils_only_itself() {
        let text = FILE.replace("  name = \"b\"", "  name = ") + "let c = (\n";
        let parse = parse_by_items(FileId(0), &text, None);
        assert_eq!(parse.errors.len(), 2, "{:?}", parse.errors);
        let names: Vec<&str> = parse.module.items.iter().map(Item::keyword).collect();
        assert_eq!(names, ["workflow", "resource", "task", "let"]);
        // The first error is the whole parse's, found token included.
        assert_eq!(parse.errors.first(), whole(&text).err().as_ref());
        assert_eq!(&text[parse.errors[0].span().start as usize..][..1], "}");
    }

    #[test]
    fn an_edit_reparses_only_its_item_and_moves_the_rest() {
        let mut cache = ItemCache::default();
        let first = cache.parse(FileId(3), FILE);
        assert_eq!(cache.parsed_last(), 5);
        let edited = FILE.replace("name = \"a\"", "name = \"a-longer\"");
        let again = cache.parse(FileId(3), &edited);
        assert_eq!(cache.parsed_last(), 1, "only the edited item is parsed");
        assert_eq!(again.module, parse_by_items(FileId(3), &edited, None).module);
        assert_ne!(first.module.items[4].span(), again.module.items[4].span(), "the items after the edit moved");
        assert_eq!(again.module.items[4].span().file, FileId(3));
    }

    #[test]
    fn random_edits_parse_through_the_cache_as_afresh_and_as_whole() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let original = std::fs::read_to_string(root.join("workflows/prod.drone")).unwrap_or_default();
        assert!(original.len() > 1000);
        let mut cache = ItemCache::default();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below.max(1) as u64) as usize
        };
        let (mut whole_ok, mut broken) = (0, 0);
        // One keystroke at a time, each taken back half the time (as typing goes).
        let mut text = original.clone();
        for round in 0..400 {
            if round % 2 == 0 {
                text = original.clone();
            }
            let mut at = next(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match next(10) {
                0 if at < text.len() => {
                    let end = at + text[at..].chars().next().map_or(0, char::len_utf8);
                    text.replace_range(at..end, "");
                }
                n => text.insert(at, [' ', '\n', ' ', '\n', 'x', '{', '}', '"', '#', '='][n]),
            }
            let cached = cache.parse(FileId(1), &text);
            let fresh = parse_by_items(FileId(1), &text, None);
            assert_eq!(cached.module, fresh.module, "the cache gives what a fresh parse does");
            assert_eq!(fresh.module.span, whole_span(FileId(1), &text));
            assert_eq!(cached.errors, fresh.errors);
            match whole(&text) {
                Ok(mut items) => {
                    items.shift(FileId(1), 0);
                    assert!(fresh.errors.is_empty(), "{:?}", fresh.errors);
                    assert_eq!(fresh.module.items, items);
                    whole_ok += 1;
                }
                Err(_) => {
                    assert!(!fresh.errors.is_empty(), "a broken file parses item by item with an error too");
                    broken += 1;
                }
            }
        }
        assert!(whole_ok > 10 && broken > 10, "{whole_ok} whole, {broken} broken");
    }
}

#[cfg(test)]
mod recovery {
    use super::*;

    #[test]
    fn an_unclosed_block_is_read_closed() {
        let text = "let a = 1\n\ninstance lib.store primary {\n  name = \"a\"\n\nresource aws.s3.bucket b {\n  name = \"x\"\n}\n";
        let parse = parse_by_items(FileId(0), text, None);
        assert_eq!((parse.errors.len(), parse.recovered), (1, 1), "{:?}", parse.errors);
        assert_eq!(parse.module.items.len(), 3);
        assert_eq!(unclosed("x = [1, { a = \"}\" // }\n"), Some("}\n]".to_string()));
        assert_eq!(unclosed("x = \"open"), None);
        assert_eq!(unclosed("x = 1"), None);
    }
}
