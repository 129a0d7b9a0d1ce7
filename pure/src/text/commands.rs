//! Note commands: a responder's note that begins with `devin` steers the investigation from
//! PagerDuty itself. Only the note's first words are read as a command; the rest is never one.
//! `ALLOWED_COMMANDERS` may limit who gives them.

/// What a note asks of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `devin investigate [context]`: start a session now, whatever the policy or the limits
    /// say; the text after it, when there is some, goes to the brief as the responder's
    /// context (quoted as data).
    Investigate(Option<String>),
    /// Something of the incident's session.
    OnSession(SessionCommand),
    /// `devin stop <text>` or `devin status <text>` (this name): they take no text, and one
    /// that has some is refused rather than guessed at (`devin stop now please` is not
    /// `devin stop`, nor is `devin stop the deploy`).
    TakesNoText(&'static str),
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
        // `rest` begins with `word`.
        let text = rest[word.len()..].trim();
        Some(match (word.to_ascii_lowercase().as_str(), text) {
            ("investigate", "") => Command::Investigate(None),
            ("investigate", context) => Command::Investigate(Some(context.to_owned())),
            ("stop", "") => Command::OnSession(SessionCommand::Stop),
            ("stop", all) if all.eq_ignore_ascii_case("all") => {
                Command::OnSession(SessionCommand::StopAll)
            }
            ("stop", _) => Command::TakesNoText(SessionCommand::Stop.name()),
            ("status", "") => Command::OnSession(SessionCommand::Status),
            ("status", _) => Command::TakesNoText(SessionCommand::Status.name()),
            _ => Command::OnSession(SessionCommand::Ask(rest.to_owned())),
        })
    }

    /// How the command is written, for notes and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Investigate(_) => "devin investigate",
            Command::OnSession(command) => command.name(),
            Command::TakesNoText(name) => name,
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
            ("devin investigate", Some(Command::Investigate(None))),
            ("  DEVIN Investigate  \n", Some(Command::Investigate(None))),
            ("Devin stop", Some(Command::OnSession(SessionCommand::Stop))),
            (
                "devin stop ALL",
                Some(Command::OnSession(SessionCommand::StopAll)),
            ),
            (
                "devin status\n",
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
    fn stop_and_status_take_no_text_but_stop_all() {
        for note in [
            "devin stop now please",
            "devin stop the deploy",
            "DEVIN STOP\nthanks",
            "devin stop all of it",
        ] {
            assert_eq!(
                Command::of(note),
                Some(Command::TakesNoText("devin stop")),
                "{note:?}"
            );
        }
        assert_eq!(
            Command::of("devin status\nthanks"),
            Some(Command::TakesNoText("devin status"))
        );
        for note in ["devin stop all", "Devin STOP  All \n"] {
            assert_eq!(
                Command::of(note),
                Some(Command::OnSession(SessionCommand::StopAll)),
                "{note:?}"
            );
        }
        assert_eq!(Command::TakesNoText("devin stop").name(), "devin stop");
    }

    #[test]
    fn the_text_after_investigate_is_the_responders_context() {
        assert_eq!(
            Command::of("devin investigate check the payments deploy\n  and the pool "),
            Some(Command::Investigate(Some(
                "check the payments deploy\n  and the pool".into()
            )))
        );
        assert_eq!(
            Command::of("Devin Investigate please").map(|command| command.name()),
            Some("devin investigate")
        );
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
