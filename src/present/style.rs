//! Colours only on a terminal.

use nu_ansi_term::{Color, Style};

#[derive(Clone, Copy)]
pub struct Painter {
    pub on: bool,
}

impl Painter {
    /// Colour on a terminal; `NO_COLOR` turns it off, `CLICOLOR_FORCE` (not "0") on even
    /// when the output is not a terminal (a CI log that renders colours).
    pub fn for_stream(is_tty: bool) -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Painter {
            on: !no_color && (is_tty || set("CLICOLOR_FORCE")),
        }
    }
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.on {
            style.paint(text).to_string()
        } else {
            text.to_string()
        }
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint(Color::Red.bold(), t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint(Color::Green.normal(), t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint(Color::Yellow.normal(), t)
    }
    pub fn blue(&self, t: &str) -> String {
        self.paint(Color::Blue.normal(), t)
    }
    /// A stable colour per host, so interleaved fan-out output stays readable.
    pub fn host(&self, name: &str) -> String {
        const COLORS: [Color; 6] = [
            Color::Cyan,
            Color::Magenta,
            Color::Green,
            Color::Yellow,
            Color::Blue,
            Color::LightRed,
        ];
        let h = name
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
        self.paint(COLORS[h % COLORS.len()].normal(), name)
    }
}
