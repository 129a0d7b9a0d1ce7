//! Note commands: a responder's note that begins with `devin` steers the investigation from
//! PagerDuty itself. Only the note's first words are read as a command; the rest is never one.
//! `ALLOWED_COMMANDERS` may limit who gives them.

/// What a note asks of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `devin investigate`: start a session now, whatever the policy or the budgets say.
    Investigate,
    /// Something of the incident's session.
    OnSession(SessionCommand),
}

/// A command that needs the incident's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// `devin stop`: end it for this incident (a member of a group leaves the group's session).
    Stop,
    /// `devin stop all`: end it for every incident of its group.
    StopAll,
    /// `devin status`: note its state and latest findings.
    Status,
    /// `devin <anything else>`: this, to it.
    Ask(String),
}

impl Command {
    /// The note's command, if it begins with one: `devin` (any case) and a word after it.
    pub fn of(note: &str) -> Option<Command> {
        let note = note.trim_start();
        let (first, rest) = note.split_once(char::is_whitespace)?;
        if !first.eq_ignore_ascii_case("devin") {
            return None;
        }
        let rest = rest.trim();
        let word = rest.split_whitespace().next()?;
        Some(match word.to_ascii_lowercase().as_str() {
            "investigate" => Command::Investigate,
            "stop" if is_stop_all(rest) => Command::OnSession(SessionCommand::StopAll),
            "stop" => Command::OnSession(SessionCommand::Stop),
            "status" => Command::OnSession(SessionCommand::Status),
            _ => Command::OnSession(SessionCommand::Ask(rest.to_owned())),
        })
    }

    /// How the command is written, for notes and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Investigate => "devin investigate",
            Command::OnSession(command) => command.name(),
        }
    }
}

impl SessionCommand {
    pub fn name(&self) -> &'static str {
        match self {
            SessionCommand::Stop => "devin stop",
            SessionCommand::StopAll => "devin stop all",
            SessionCommand::Status => "devin status",
            SessionCommand::Ask(_) => "devin <message>",
        }
    }
}

/// Whether the command's words are `stop all` (any case).
fn is_stop_all(rest: &str) -> bool {
    let mut words = rest.split_whitespace().skip(1);
    words
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case("all"))
}

/// Who may give commands (`ALLOWED_COMMANDERS`): PagerDuty user ids and emails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commanders {
    ids: Vec<String>,
    emails: Vec<String>,
}

impl Commanders {
    /// A comma-separated list of user ids (`PABC123`) and emails; `Err` holds an entry that is
    /// neither.
    pub fn parse(list: &str) -> Result<Commanders, String> {
        let mut commanders = Commanders {
            ids: Vec::new(),
            emails: Vec::new(),
        };
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry.contains('@') && !entry.contains(char::is_whitespace) {
                commanders.emails.push(entry.to_ascii_lowercase());
            } else if !entry.is_empty() && entry.chars().all(|c| c.is_ascii_alphanumeric()) {
                commanders.ids.push(entry.to_owned());
            } else {
                return Err(entry.to_owned());
            }
        }
        if commanders.ids.is_empty() && commanders.emails.is_empty() {
            return Err(list.to_owned());
        }
        Ok(commanders)
    }

    pub fn len(&self) -> usize {
        self.ids.len() + self.emails.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the user `id` is listed.
    pub fn lists_id(&self, id: &str) -> bool {
        self.ids.iter().any(|listed| listed == id)
    }

    /// Whether an email is listed at all: only then is the author's email worth looking up.
    pub fn has_emails(&self) -> bool {
        !self.emails.is_empty()
    }

    pub fn lists_email(&self, email: &str) -> bool {
        let email = email.trim().to_ascii_lowercase();
        self.emails.contains(&email)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_note_that_begins_with_devin_and_a_word_is_a_command() {
        for (note, command) in [
            ("devin investigate", Some(Command::Investigate)),
            ("  DEVIN Investigate please", Some(Command::Investigate)),
            ("Devin stop", Some(Command::OnSession(SessionCommand::Stop))),
            (
                "devin stop ALL",
                Some(Command::OnSession(SessionCommand::StopAll)),
            ),
            (
                "devin status\nthanks",
                Some(Command::OnSession(SessionCommand::Status)),
            ),
            (
                "devin check the pool size\nand the deploy",
                Some(Command::OnSession(SessionCommand::Ask(
                    "check the pool size\nand the deploy".into(),
                ))),
            ),
            ("devin", None),
            ("devin   ", None),
            ("Devin, stop", None),
            ("devin: stop", None),
            ("Looks like devin stop would help", None),
            ("", None),
        ] {
            assert_eq!(Command::of(note), command, "{note:?}");
        }
    }

    #[test]
    fn commanders_are_ids_and_emails() {
        let commanders = Commanders::parse("PABC123, Dana@Acme.example ,").unwrap();
        assert!(commanders.lists_id("PABC123") && !commanders.lists_id("PXYZ"));
        assert!(commanders.lists_email("dana@acme.example") && commanders.has_emails());
        assert_eq!(commanders.len(), 2);
        for bad in ["", " , ", "P-1", "two words"] {
            assert!(Commanders::parse(bad).is_err(), "{bad:?}");
        }
    }
}
