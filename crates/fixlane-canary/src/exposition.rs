//! The Prometheus text exposition format (and the `OpenMetrics` text format, which shares its
//! sample lines), read just far enough to sum counters, and the series selectors a `scrape`
//! check names them with: `http_requests_total{service="checkout",code=~"5.."}`.
//!
//! Hand-written rather than a crate: the one parser on the registry (`prometheus-parse`) has
//! had no release since 2023 and pulls in chrono and itertools for what is forty lines here.

use regex::Regex;

/// One sample line: a series and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleLine {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// Why a line or a selector could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} (at character {position} of `{text}`)")]
pub struct SyntaxError {
    pub text: String,
    pub position: usize,
    pub what: String,
}

/// How a selector compares one label.
#[derive(Debug, Clone)]
pub enum LabelMatch {
    Equal(String),
    NotEqual(String),
    /// Anchored at both ends, as Prometheus does.
    Regex(Regex),
    NotRegex(Regex),
}

impl LabelMatch {
    fn matches(&self, value: &str) -> bool {
        match self {
            LabelMatch::Equal(expected) => value == expected,
            LabelMatch::NotEqual(expected) => value != expected,
            LabelMatch::Regex(regex) => regex.is_match(value),
            LabelMatch::NotRegex(regex) => !regex.is_match(value),
        }
    }
}

/// `name{label="value", label=~"regex", label!="value", label!~"regex"}`.
#[derive(Debug, Clone)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<(String, LabelMatch)>,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Self, SyntaxError> {
        let mut reader = Reader::new(text);
        reader.skip_spaces();
        let name = reader.identifier("a metric name")?;
        reader.skip_spaces();
        let mut matchers = Vec::new();
        if reader.eat('{') {
            loop {
                reader.skip_spaces();
                if reader.eat('}') {
                    break;
                }
                let label = reader.identifier("a label name")?;
                reader.skip_spaces();
                let operator = if reader.eat('=') {
                    if reader.eat('~') { "=~" } else { "=" }
                } else if reader.eat('!') {
                    if reader.eat('=') {
                        "!="
                    } else if reader.eat('~') {
                        "!~"
                    } else {
                        return Err(reader.error("expected `!=` or `!~`"));
                    }
                } else {
                    return Err(reader.error("expected `=`, `!=`, `=~` or `!~`"));
                };
                reader.skip_spaces();
                let value = reader.quoted()?;
                let matcher = match operator {
                    "=" => LabelMatch::Equal(value),
                    "!=" => LabelMatch::NotEqual(value),
                    _ => {
                        let regex = Regex::new(&format!("^(?:{value})$")).map_err(|error| {
                            reader.error(&format!("`{value}` is not a regular expression: {error}"))
                        })?;
                        if operator == "=~" {
                            LabelMatch::Regex(regex)
                        } else {
                            LabelMatch::NotRegex(regex)
                        }
                    }
                };
                matchers.push((label, matcher));
                reader.skip_spaces();
                if reader.eat('}') {
                    break;
                }
                if !reader.eat(',') {
                    return Err(reader.error("expected `,` or `}`"));
                }
            }
        }
        reader.skip_spaces();
        if !reader.at_end() {
            return Err(reader.error("unexpected text after the selector"));
        }
        Ok(Self { name, matchers })
    }

    pub fn matches(&self, sample: &SampleLine) -> bool {
        sample.name == self.name
            && self.matchers.iter().all(|(label, matcher)| {
                // A missing label is the empty string, as in PromQL.
                let value = sample
                    .labels
                    .iter()
                    .find(|(name, _)| name == label)
                    .map_or("", |(_, value)| value.as_str());
                matcher.matches(value)
            })
    }

    /// The sum of every matching series, or `None` when the metric is not exposed at all (a
    /// typo must not read as a steady zero). A metric exposed without a matching series sums to
    /// zero: client libraries often expose a label set only once it has counted something.
    pub fn sum(&self, samples: &[SampleLine]) -> Option<f64> {
        let mut exposed = false;
        let mut sum = 0.0;
        for sample in samples {
            if sample.name == self.name {
                exposed = true;
                if self.matches(sample) {
                    sum += sample.value;
                }
            }
        }
        exposed.then_some(sum)
    }
}

/// Every sample line of an exposition; comments (`# HELP`, `# TYPE`, `# EOF`) and blank lines
/// are skipped, timestamps and exemplars ignored.
pub fn parse(text: &str) -> Result<Vec<SampleLine>, SyntaxError> {
    let mut samples = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        samples.push(parse_line(trimmed)?);
    }
    Ok(samples)
}

fn parse_line(line: &str) -> Result<SampleLine, SyntaxError> {
    let mut reader = Reader::new(line);
    let name = reader.identifier("a metric name")?;
    let mut labels = Vec::new();
    reader.skip_spaces();
    if reader.eat('{') {
        loop {
            reader.skip_spaces();
            if reader.eat('}') {
                break;
            }
            let label = reader.identifier("a label name")?;
            reader.skip_spaces();
            if !reader.eat('=') {
                return Err(reader.error("expected `=`"));
            }
            reader.skip_spaces();
            let value = reader.quoted()?;
            labels.push((label, value));
            reader.skip_spaces();
            if reader.eat('}') {
                break;
            }
            if !reader.eat(',') {
                return Err(reader.error("expected `,` or `}`"));
            }
        }
    }
    reader.skip_spaces();
    let rest = reader.rest();
    let token = rest.split_whitespace().next().unwrap_or("");
    let value = parse_value(token).ok_or_else(|| reader.error("expected a number"))?;
    Ok(SampleLine {
        name,
        labels,
        value,
    })
}

/// A sample value, including the format's `+Inf`, `-Inf` and `NaN`.
pub fn parse_value(token: &str) -> Option<f64> {
    match token {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if token.is_empty() => None,
        _ => token.parse().ok(),
    }
}

/// A cursor over one line.
struct Reader<'text> {
    text: &'text str,
    position: usize,
}

impl<'text> Reader<'text> {
    fn new(text: &'text str) -> Self {
        Self { text, position: 0 }
    }

    fn rest(&self) -> &'text str {
        &self.text[self.position..]
    }

    fn at_end(&self) -> bool {
        self.position >= self.text.len()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.position += expected.len_utf8();
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while let Some(character) = self.peek() {
            if character == ' ' || character == '\t' {
                self.position += 1;
            } else {
                break;
            }
        }
    }

    fn error(&self, what: &str) -> SyntaxError {
        SyntaxError {
            text: self.text.to_owned(),
            position: self.position + 1,
            what: what.to_owned(),
        }
    }

    fn identifier(&mut self, what: &str) -> Result<String, SyntaxError> {
        let start = self.position;
        while let Some(character) = self.peek() {
            if character.is_ascii_alphanumeric() || character == '_' || character == ':' {
                self.position += 1;
            } else {
                break;
            }
        }
        if start == self.position {
            return Err(self.error(&format!("expected {what}")));
        }
        Ok(self.text[start..self.position].to_owned())
    }

    /// A `"…"` (or, in selectors, `'…'`) string with `\\`, `\"` and `\n` escapes.
    fn quoted(&mut self) -> Result<String, SyntaxError> {
        let Some(quote @ ('"' | '\'')) = self.peek() else {
            return Err(self.error("expected a quoted value"));
        };
        self.position += 1;
        let mut value = String::new();
        let mut characters = self.rest().char_indices();
        while let Some((offset, character)) = characters.next() {
            match character {
                '\\' => match characters.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                _ if character == quote => {
                    self.position += offset + 1;
                    return Ok(value);
                }
                _ => value.push(character),
            }
        }
        Err(self.error("the quoted value is not closed"))
    }
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::float_cmp,
        reason = "the values are parsed from fixed text, so they are exact"
    )]
    use super::*;

    const TEXT: &str = r#"# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{service="checkout",code="200"} 990
http_requests_total{service="checkout",code="500"} 7 1700000000000
http_requests_total{service="checkout",code="503"} 3
http_requests_total{service="search",code="500"} 100
http_request_duration_seconds_bucket{service="checkout",le="+Inf"} 1000
odd_total{path="a \"quoted\" \\ value",} 2.5e1 # {trace_id="x"} 1
up 1
# EOF
"#;

    #[test]
    fn reads_samples_skipping_comments_timestamps_and_exemplars() {
        let samples = parse(TEXT).unwrap();
        assert_eq!(samples.len(), 7);
        assert_eq!(samples[1].value, 7.0);
        assert_eq!(
            samples[5].labels,
            vec![("path".to_owned(), "a \"quoted\" \\ value".to_owned())]
        );
        assert_eq!(samples[5].value, 25.0);
        assert_eq!(samples[6].name, "up");
        assert!(parse("broken{").is_err());
        assert!(parse("name notanumber").is_err());
    }

    #[test]
    fn selectors_sum_matching_series() {
        let samples = parse(TEXT).unwrap();
        let errors =
            Selector::parse(r#"http_requests_total{service="checkout", code=~"5.."}"#).unwrap();
        assert_eq!(errors.sum(&samples), Some(10.0));
        let all = Selector::parse(r#"http_requests_total{service="checkout"}"#).unwrap();
        assert_eq!(all.sum(&samples), Some(1000.0));
        let not_ok =
            Selector::parse(r#"http_requests_total{code!="200",service!~"se.*"}"#).unwrap();
        assert_eq!(not_ok.sum(&samples), Some(10.0));
        // The regex is anchored: `5` alone matches no three-digit code.
        let anchored = Selector::parse(r#"http_requests_total{code=~"5"}"#).unwrap();
        assert_eq!(anchored.sum(&samples), Some(0.0));
        let bare = Selector::parse("http_requests_total").unwrap();
        assert_eq!(bare.sum(&samples), Some(1100.0));
        assert_eq!(
            Selector::parse("missing_total").unwrap().sum(&samples),
            None
        );
    }

    #[test]
    fn bad_selectors_are_refused_with_a_position() {
        let error = Selector::parse(r#"x{code~"5"}"#).unwrap_err();
        assert!(error.what.contains("expected"), "{error}");
        assert!(Selector::parse(r#"x{code=~"("}"#).is_err());
        assert!(Selector::parse(r#"x{code="5"} extra"#).is_err());
        assert!(Selector::parse("{code=\"5\"}").is_err());
    }
}
