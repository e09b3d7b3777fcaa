//! Expression text to a syntax tree: the lexer and the recursive-descent parser of the
//! grammar at the top of [`super`]. Nothing here knows what fields mean.

use super::SearchError;

/// Deepest nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most field terms in one expression.
pub const MAX_TERMS: usize = 256;
/// Longest expression, in bytes.
pub const MAX_LEN: usize = 8192;

/// A comparison operator between a field and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `:` — tokens (text), equality (numbers, dates, keywords).
    Colon,
    /// `=` — the exact value.
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Colon => ":",
            Self::Eq => "=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        }
    }
}

/// A value as written: unescaped text, whether it was quoted, whether it ended in an
/// unescaped `*`, and its byte span in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub quoted: bool,
    pub wildcard: bool,
    pub at: usize,
}

impl Value {
    /// A lone unescaped `*`: "any value".
    pub fn is_any(&self) -> bool {
        self.wildcard && self.text.is_empty()
    }
}

/// A field name and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldName {
    pub name: String,
    pub at: usize,
}

/// One end of a range; `None` is `*` (open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub value: Option<Value>,
    pub inclusive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `field op value`, or a bare value (`field` is `None`).
    Term {
        field: Option<FieldName>,
        op: Op,
        value: Value,
    },
    /// `field:[lo TO hi]` (brackets inclusive, braces exclusive).
    Range {
        field: FieldName,
        lo: Bound,
        hi: Bound,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(Value),
    Op(Op),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    And,
    Or,
    Not,
}

#[derive(Debug, Clone)]
struct Lexed {
    tok: Tok,
    at: usize,
    /// Whitespace (or the start) directly before this token.
    spaced: bool,
}

const RESERVED: &[char] = &['!', '(', ')', '{', '}', '[', ']', '^', '~', '?', ':', '\\', '=', '&', '>', '<', '|', '"'];

fn lex(src: &str) -> Result<Vec<Lexed>, SearchError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    let mut spaced = true;
    while let Some(&(at, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            spaced = true;
            continue;
        }
        let single = |t: Tok| Lexed { tok: t, at, spaced };
        let tok = match c {
            '(' => {
                it.next();
                single(Tok::LParen)
            }
            ')' => {
                it.next();
                single(Tok::RParen)
            }
            '[' => {
                it.next();
                single(Tok::LBracket)
            }
            ']' => {
                it.next();
                single(Tok::RBracket)
            }
            '{' => {
                it.next();
                single(Tok::LBrace)
            }
            '}' => {
                it.next();
                single(Tok::RBrace)
            }
            '!' => {
                it.next();
                single(Tok::Not)
            }
            '&' | '|' => {
                it.next();
                match it.next_if(|&(_, n)| n == c) {
                    Some(_) => single(if c == '&' { Tok::And } else { Tok::Or }),
                    None => {
                        return Err(SearchError::at(
                            at,
                            format!("unexpected '{c}'"),
                            format!("write {c}{c} or the word {}", if c == '&' { "AND" } else { "OR" }),
                        ));
                    }
                }
            }
            ':' | '=' | '>' | '<' => {
                it.next();
                let mut op = match c {
                    ':' => Op::Colon,
                    '=' => Op::Eq,
                    '>' => Op::Gt,
                    _ => Op::Lt,
                };
                // `bytes:>100` is `bytes>100`.
                if op == Op::Colon {
                    if let Some((_, n)) = it.next_if(|&(_, n)| n == '>' || n == '<') {
                        op = if n == '>' { Op::Gt } else { Op::Lt };
                    }
                }
                if matches!(op, Op::Gt | Op::Lt) && it.next_if(|&(_, n)| n == '=').is_some() {
                    op = if op == Op::Gt { Op::Ge } else { Op::Le };
                }
                single(Tok::Op(op))
            }
            '"' => {
                it.next();
                let mut text = String::new();
                let mut wildcard = false;
                let mut closed = false;
                while let Some((_, c)) = it.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match it.next() {
                            Some((_, e)) => text.push(e),
                            None => break,
                        },
                        '*' => {
                            if it.peek().is_some_and(|&(_, n)| n == '"') {
                                wildcard = true;
                            } else {
                                return Err(SearchError::at(
                                    at,
                                    "a '*' inside quotes must end the value",
                                    "escape it as \\* to search for a star",
                                ));
                            }
                        }
                        c => text.push(c),
                    }
                }
                if !closed {
                    return Err(SearchError::at(at, "unterminated quoted value", "close it with \""));
                }
                single(Tok::Word(Value { text, quoted: true, wildcard, at }))
            }
            _ => {
                let mut text = String::new();
                let mut wildcard = false;
                while let Some(&(pos, c)) = it.peek() {
                    if c.is_whitespace() || (RESERVED.contains(&c) && c != '\\') {
                        break;
                    }
                    it.next();
                    if wildcard {
                        return Err(SearchError::at(
                            pos,
                            "'*' is only supported at the end of a value",
                            "use a trailing * for prefix matches, or escape it as \\*",
                        ));
                    }
                    match c {
                        '\\' => match it.next() {
                            Some((_, e)) => text.push(e),
                            None => {
                                return Err(SearchError::at(
                                    pos,
                                    "'\\' at the end of the expression",
                                    "escape a backslash as \\\\",
                                ));
                            }
                        },
                        '*' => wildcard = true,
                        c => text.push(c),
                    }
                }
                let tok = match (text.as_str(), wildcard) {
                    ("AND", false) => Tok::And,
                    ("OR", false) => Tok::Or,
                    ("NOT", false) => Tok::Not,
                    _ => {
                        if text.is_empty() && !wildcard {
                            return Err(SearchError::at(
                                at,
                                format!("unexpected '{c}'"),
                                "escape reserved characters with \\ or quote the value",
                            ));
                        }
                        Tok::Word(Value { text, quoted: false, wildcard, at })
                    }
                };
                single(tok)
            }
        };
        out.push(tok);
        spaced = false;
    }
    Ok(out)
}

/// Parses an expression; an empty (or blank) one is `None` (every asset).
pub fn parse(src: &str) -> Result<Option<Expr>, SearchError> {
    if src.len() > MAX_LEN {
        return Err(SearchError::at(
            MAX_LEN,
            format!("the expression is longer than {MAX_LEN} bytes"),
            "split the search into several",
        ));
    }
    let toks = lex(src)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0, depth: 0, terms: 0, end: src.len() };
    let e = p.or(None)?;
    if let Some(t) = p.toks.get(p.pos) {
        let hint = if t.tok == Tok::RParen { "remove it or add the matching '('" } else { "join terms with AND or OR" };
        return Err(SearchError::at(t.at, format!("unexpected {}", describe(&t.tok)), hint));
    }
    Ok(Some(e))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(v) if v.quoted => format!("\"{}\"", v.text),
        Tok::Word(v) => format!("'{}{}'", v.text, if v.wildcard { "*" } else { "" }),
        Tok::Op(o) => format!("'{}'", o.as_str()),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::LBrace => "'{'".into(),
        Tok::RBrace => "'}'".into(),
        Tok::And => "AND".into(),
        Tok::Or => "OR".into(),
        Tok::Not => "NOT".into(),
    }
}

struct Parser {
    toks: Vec<Lexed>,
    pos: usize,
    depth: usize,
    terms: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexed> {
        self.toks.get(self.pos)
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end, |t| t.at)
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek().is_some_and(|l| &l.tok == t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), SearchError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SearchError::at(
                self.at(),
                format!("the expression nests deeper than {MAX_DEPTH} levels"),
                "flatten the parentheses",
            ));
        }
        Ok(())
    }

    /// `field` is the field of an enclosing `field:( ... )` group.
    fn or(&mut self, field: Option<&FieldName>) -> Result<Expr, SearchError> {
        let mut parts = vec![self.and(field)?];
        while self.eat(&Tok::Or) {
            parts.push(self.and(field)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self, field: Option<&FieldName>) -> Result<Expr, SearchError> {
        let mut parts = vec![self.unary(field)?];
        loop {
            match self.peek().map(|t| &t.tok) {
                Some(Tok::And) => {
                    self.pos += 1;
                    parts.push(self.unary(field)?);
                }
                None | Some(Tok::Or | Tok::RParen) => break,
                // Juxtaposition is AND.
                Some(_) => parts.push(self.unary(field)?),
            }
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn unary(&mut self, field: Option<&FieldName>) -> Result<Expr, SearchError> {
        if self.eat(&Tok::Not) {
            self.enter()?;
            let e = self.unary(field)?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        // A lone `-` directly before `(` or a quoted value negates it: `-(a OR b)`, `-"red shoe"`.
        if let Some(Lexed { tok: Tok::Word(v), .. }) = self.peek() {
            let next_attached =
                self.toks.get(self.pos + 1).is_some_and(|n| !n.spaced && matches!(n.tok, Tok::LParen | Tok::Word(_)));
            if !v.quoted && !v.wildcard && v.text == "-" && next_attached {
                self.pos += 1;
                self.enter()?;
                let e = self.unary(field)?;
                self.depth -= 1;
                return Ok(Expr::Not(Box::new(e)));
            }
        }
        // `-term` negates when the dash starts a word (after a space, a parenthesis or the start).
        if let Some(Lexed { tok: Tok::Word(v), spaced, .. }) = self.peek() {
            let starts = *spaced
                || self.pos == 0
                || matches!(self.toks.get(self.pos - 1).map(|t| &t.tok), Some(Tok::LParen | Tok::Not));
            if starts && !v.quoted && v.text.len() > 1 && v.text.starts_with('-') && v.at + 1 < self.end {
                let mut rest = v.clone();
                rest.text.remove(0);
                rest.at += 1;
                self.toks[self.pos].tok = Tok::Word(rest);
                // What follows the dash starts a word too (`--a` is NOT NOT a).
                self.toks[self.pos].spaced = true;
                self.enter()?;
                let e = self.unary(field)?;
                self.depth -= 1;
                return Ok(Expr::Not(Box::new(e)));
            }
        }
        self.primary(field)
    }

    fn primary(&mut self, field: Option<&FieldName>) -> Result<Expr, SearchError> {
        let Some(l) = self.peek().cloned() else {
            return Err(SearchError::at(
                self.end,
                "the expression ends where a term was expected",
                "complete or remove the last operator",
            ));
        };
        match l.tok {
            Tok::LParen => self.group(field, l.at),
            Tok::Word(v) => {
                self.pos += 1;
                match self.peek().map(|t| t.tok.clone()) {
                    Some(Tok::Op(op)) if field.is_none() && !v.quoted && !v.wildcard => {
                        self.pos += 1;
                        let name = FieldName { name: v.text, at: v.at };
                        self.field_value(name, op)
                    }
                    Some(Tok::Op(op)) => Err(SearchError::at(
                        self.at(),
                        format!("unexpected '{}'", op.as_str()),
                        "quote values that contain reserved characters, e.g. \"16:9\"",
                    )),
                    _ => self.term(field.cloned(), Op::Colon, v),
                }
            }
            other => Err(SearchError::at(
                l.at,
                format!("unexpected {}", describe(&other)),
                "a term is a value or field:value",
            )),
        }
    }

    /// A parenthesised group whose '(' (at `open`) is the next token, with its ')'.
    fn group(&mut self, field: Option<&FieldName>, open: usize) -> Result<Expr, SearchError> {
        self.pos += 1;
        self.enter()?;
        let e = self.or(field)?;
        self.depth -= 1;
        if !self.eat(&Tok::RParen) {
            return Err(SearchError::at(self.at(), "missing ')'", format!("close the '(' at position {open}")));
        }
        Ok(e)
    }

    fn term(&mut self, field: Option<FieldName>, op: Op, value: Value) -> Result<Expr, SearchError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(SearchError::at(
                value.at,
                format!("the expression has more than {MAX_TERMS} terms"),
                "split the search into several",
            ));
        }
        Ok(Expr::Term { field, op, value })
    }

    fn field_value(&mut self, field: FieldName, op: Op) -> Result<Expr, SearchError> {
        let Some(l) = self.peek().cloned() else {
            return Err(SearchError::at(
                self.end,
                format!("'{}' has no value", field.name),
                "add a value, or * for any value",
            ));
        };
        match l.tok {
            Tok::Word(v) => {
                self.pos += 1;
                self.term(Some(field), op, v)
            }
            // The group's op applies to every value in it.
            Tok::LParen if op == Op::Colon || op == Op::Eq => Ok(with_op(self.group(Some(&field), l.at)?, op)),
            Tok::LBracket | Tok::LBrace if op == Op::Colon => {
                self.pos += 1;
                let lo = self.bound(l.tok == Tok::LBracket)?;
                match self.peek() {
                    Some(Lexed { tok: Tok::Word(v), .. }) if v.text == "TO" && !v.quoted && !v.wildcard => {
                        self.pos += 1
                    }
                    _ => {
                        return Err(SearchError::at(
                            self.at(),
                            "a range needs TO between its bounds",
                            "write [low TO high]",
                        ));
                    }
                }
                let mut hi = self.bound(true)?;
                hi.inclusive = match self.peek().map(|t| &t.tok) {
                    Some(Tok::RBracket) => true,
                    Some(Tok::RBrace) => false,
                    _ => {
                        return Err(SearchError::at(
                            self.at(),
                            "a range ends with ] or }",
                            "write [low TO high] or {low TO high}",
                        ));
                    }
                };
                self.pos += 1;
                self.terms += 1;
                Ok(Expr::Range { field, lo, hi })
            }
            other => Err(SearchError::at(
                l.at,
                format!("unexpected {} after '{}{}'", describe(&other), field.name, op.as_str()),
                "give a value, a quoted value, or a range [a TO b]",
            )),
        }
    }

    fn bound(&mut self, inclusive: bool) -> Result<Bound, SearchError> {
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Word(v)) => {
                self.pos += 1;
                Ok(Bound { value: (!v.is_any()).then_some(v), inclusive })
            }
            _ => Err(SearchError::at(self.at(), "a range bound must be a value or *", "write [low TO high]")),
        }
    }
}

/// Gives every term of a `field:( ... )` group the group's operator.
fn with_op(e: Expr, op: Op) -> Expr {
    match e {
        Expr::And(v) => Expr::And(v.into_iter().map(|e| with_op(e, op)).collect()),
        Expr::Or(v) => Expr::Or(v.into_iter().map(|e| with_op(e, op)).collect()),
        Expr::Not(e) => Expr::Not(Box::new(with_op(*e, op))),
        Expr::Term { field, value, .. } => Expr::Term { field, op, value },
        r @ Expr::Range { .. } => r,
    }
}
