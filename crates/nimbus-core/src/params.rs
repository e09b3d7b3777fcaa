//! Wire encodings of upload parameters: comma-separated tags, and the pipe-separated
//! `key=value|key=value` strings of `context` and `metadata` with `\=` / `\|` escapes.

/// Response headers an asset may carry on delivery (`headers` on upload), as Cloudinary
/// allows them: `Link` and `X-Robots-Tag`.
pub const CUSTOM_HEADERS: [&str; 2] = ["Link", "X-Robots-Tag"];

/// At most this many custom header lines, each value at most this long.
const MAX_CUSTOM_HEADERS: usize = 10;
const MAX_CUSTOM_HEADER_VALUE: usize = 1024;

/// Parses `headers` (`Name: value` lines, as the SDKs join them with newlines) into the names
/// of [`CUSTOM_HEADERS`] and values of visible ASCII. The error names the refused line.
pub fn parse_custom_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for line in text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("header line without a name: {line}"))?;
        let (name, value) = (name.trim(), value.trim());
        let Some(known) = CUSTOM_HEADERS.iter().find(|h| h.eq_ignore_ascii_case(name)) else {
            return Err(format!("header {name} is not allowed (allowed: {})", CUSTOM_HEADERS.join(", ")));
        };
        if value.is_empty()
            || value.len() > MAX_CUSTOM_HEADER_VALUE
            || !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        {
            return Err(format!("header {known} has an invalid value"));
        }
        out.push(((*known).to_owned(), value.to_owned()));
    }
    if out.len() > MAX_CUSTOM_HEADERS {
        return Err(format!("at most {MAX_CUSTOM_HEADERS} headers"));
    }
    Ok(out)
}

/// Splits `a,b , c` into trimmed, non-empty tags, keeping the first occurrence of each.
pub fn parse_tags(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

/// Parses `k=v|k2=v2` with `\=` and `\|` escapes into ordered pairs. A part without `=` is a
/// key with an empty value; a backslash before any other character is kept literally.
pub fn parse_pipe_pairs(s: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for part in split_unescaped(s, '|') {
        if part.is_empty() {
            continue;
        }
        let mut kv = split_unescaped(&part, '=').into_iter();
        let key = unescape(&kv.next().unwrap_or_default());
        let rest: Vec<String> = kv.collect();
        let value = unescape(&rest.join("="));
        if !key.is_empty() {
            pairs.push((key, value));
        }
    }
    pairs
}

/// Encodes pairs back into the pipe form, escaping `=` and `|` in keys and values.
pub fn encode_pipe_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let esc = |s: &str| s.replace('=', "\\=").replace('|', "\\|");
    pairs.into_iter().map(|(k, v)| format!("{}={}", esc(k), esc(v))).collect::<Vec<_>>().join("|")
}

/// Splits on `sep` where it is not preceded by a backslash; escapes stay in the parts.
/// With `sep = '='` only the first unescaped separator splits (the rest stays joined by the
/// caller), which is what `k=a=b` needs.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    let mut split_done = false;
    while let Some(c) = chars.next() {
        if c == '\\' {
            cur.push(c);
            if let Some(n) = chars.next() {
                cur.push(n);
            }
        } else if c == sep && !(sep == '=' && split_done) {
            parts.push(std::mem::take(&mut cur));
            split_done = true;
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('=') | Some('|')) {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Cloudinary's booleans arrive as `1`/`0` (Upload API) or `true`/`false` (Admin API).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "1" | "true" | "True" | "TRUE" | "yes" => Some(true),
        "0" | "false" | "False" | "FALSE" | "no" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_headers() {
        assert_eq!(
            parse_custom_headers("link: <https://x.test/a.css>; rel=preload\nX-Robots-Tag: noindex").unwrap(),
            vec![
                ("Link".to_owned(), "<https://x.test/a.css>; rel=preload".to_owned()),
                ("X-Robots-Tag".to_owned(), "noindex".to_owned())
            ]
        );
        assert!(parse_custom_headers("Set-Cookie: a=b").unwrap_err().contains("Set-Cookie"));
        assert!(parse_custom_headers("Link: a\u{7f}b").is_err());
        assert!(parse_custom_headers("Link").is_err());
    }

    #[test]
    fn context_as_the_sdk_encodes_it() {
        let pairs = parse_pipe_pairs(r"caption=a\=b\|c|alt=x");
        assert_eq!(pairs, vec![("caption".into(), "a=b|c".into()), ("alt".into(), "x".into())]);
        assert_eq!(encode_pipe_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))), r"caption=a\=b\|c|alt=x");
    }

    #[test]
    fn odd_context_strings() {
        assert_eq!(parse_pipe_pairs("k=a=b"), vec![("k".into(), "a=b".into())]);
        assert_eq!(parse_pipe_pairs("k"), vec![("k".into(), "".into())]);
        assert_eq!(parse_pipe_pairs(r"k=c:\d"), vec![("k".into(), r"c:\d".into())]);
        assert!(parse_pipe_pairs("||").is_empty());
    }

    #[test]
    fn tags() {
        assert_eq!(parse_tags(" a, b,,a ,c"), vec!["a", "b", "c"]);
    }
}
