//! `seedc explain CODE` and `seedc explain --list`.

use anyhow::Result;

use crate::cli::ExplainArgs;
use crate::diag::Code;
use crate::exit::{Exit, ExitError};
use crate::report::printer::Printer;

pub(super) fn run(args: &ExplainArgs, printer: &Printer) -> Result<Exit> {
    if args.list {
        let width = Code::ALL.iter().map(|c| c.name().len()).max().unwrap_or(0);
        let text: String = Code::ALL.iter().map(|c| format!("{:width$}  {}\n", c.name(), c.summary())).collect();
        printer.stdout(&text);
        return Ok(Exit::Ok);
    }
    let name = args.code.as_deref().unwrap_or_default();
    let Ok(code) = name.parse::<Code>() else {
        return Err(ExitError::new(Exit::Usage, format!("unknown code {name:?}; `seedc explain --list` lists them all")));
    };
    printer.stdout(&explain(code));
    Ok(Exit::Ok)
}

/// The text of `seedc explain CODE`, also the section of docs/codes.md for that code.
pub(super) fn explain(code: Code) -> String {
    let mut text = format!("{}: {}\n\n{}\n", code.name(), code.summary(), wrap(code.explanation(), 88));
    if let Some(help) = code.default_help() {
        text.push_str(&format!("\nhelp: {help}\n"));
    }
    text
}

fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}
