//! Note commands: a responder's note that begins with `devin` is acted on (start a session now,
//! stop it, note its status, or pass a request on), when its author may give commands. A command
//! that makes no sense here (stop without a session) is refused with a note that says why.

use std::sync::Arc;

use tracing::{info, warn};

use crate::delivery::bridge::Bridge;
use crate::delivery::devin_calls::not_told;
use crate::delivery::outcome::{Done, Outcome};
use crate::edge::devin::DevinError;
use crate::edge::retry::Failure;
use pure::budget::Budget;
use pure::inbound::secret::Secrets;
use pure::inbound::webhook::Event;
use pure::life::session::Session;
use pure::metrics::Tally;
use pure::text::commands::{Command, SessionCommand};
use pure::text::findings;
use pure::text::messages;
use pure::text::notes;
use pure::text::responder_context::ResponderContext;

const NO_SESSION: &str = "there is no Devin session on this incident. Write `devin investigate` \
     to start one.";
const TAKES_NO_TEXT: &str = "it takes no text after it, and this note has some: nothing was \
     guessed. Write the command alone to carry it out; to tell the session something, write \
     `devin` and your request.";

impl Bridge {
    /// Carries out the command of a responder's note on `incident_id`.
    pub(super) async fn command(
        &self,
        command: Command,
        incident_id: &str,
        event: &Event,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let who = event.agent_name();
        info!(
            command = command.name(),
            author = who,
            author_id = event.agent_id(),
            "a note command"
        );
        tally.note_commands = 1;
        if !self.may_command(event.agent_id(), &secrets, budget).await {
            let reason = "its author may not give commands (ALLOWED_COMMANDERS).";
            return self
                .refuse(command.name(), incident_id, reason, &secrets, budget)
                .await;
        }
        // A command refused for its text is refused in a dry run too, as for its author.
        if self.options.dry_run && !matches!(command, Command::TakesNoText(_)) {
            let message = format!("{} would be carried out", command.name());
            let incident_id = incident_id.to_owned();
            return Done::DryRunMessage {
                incident_id,
                message,
            }
            .into();
        }
        self.carry_out(command, incident_id, who, secrets, budget, tally)
            .await
    }

    /// Carries out a command its author may give: starts a session, or acts on the incident's
    /// session; a command that takes no text and has some is refused.
    async fn carry_out(
        &self,
        command: Command,
        incident_id: &str,
        who: Option<&str>,
        secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let name = command.name();
        match command {
            Command::Investigate(context) => {
                let read = self.pagerduty.incident(incident_id, &secrets, budget).await;
                let incident = match read {
                    Ok(incident) => incident,
                    Err(reason) => {
                        return self
                            .refuse(name, incident_id, &reason, &secrets, budget)
                            .await
                    }
                };
                let context = context
                    .as_deref()
                    .map(|text| ResponderContext { author: who, text });
                self.investigate_as_asked(&incident, context, secrets, budget, tally)
                    .await
            }
            Command::TakesNoText(_) => {
                self.refuse(name, incident_id, TAKES_NO_TEXT, &secrets, budget)
                    .await
            }
            Command::OnSession(on_session) => {
                let session = match self
                    .claims
                    .session_to_tell(incident_id, false, budget)
                    .await
                {
                    Ok(Some(session)) => session,
                    Ok(None) => {
                        return self
                            .refuse(on_session.name(), incident_id, NO_SESSION, &secrets, budget)
                            .await
                    }
                    Err(outcome) => return outcome,
                };
                let asked = (incident_id, who, session);
                self.on_session(on_session, asked, secrets, budget, tally)
                    .await
            }
        }
    }

    /// Carries out a command on the incident's session: stops it, notes its status, or tells
    /// it the responder's request.
    async fn on_session(
        &self,
        command: SessionCommand,
        (incident_id, who, session): (&str, Option<&str>, Session),
        mut secrets: Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Outcome {
        let note = match &command {
            SessionCommand::Stop | SessionCommand::StopAll => {
                let all = command == SessionCommand::StopAll;
                let asked = (incident_id, who, &session);
                match self
                    .stop_or_leave(asked, all, &mut secrets, budget, tally)
                    .await
                {
                    Ok(note) => note,
                    Err(outcome) => return outcome,
                }
            }
            SessionCommand::Status => self.status(&session, &mut secrets, budget, tally).await,
            SessionCommand::Ask(request) => {
                let message = messages::responder_request_message(who, request);
                let told = self
                    .devin
                    .tell(&session.session_id, &message, &mut secrets, budget, tally)
                    .await;
                return match told {
                    Ok(()) => Done::Forwarded {
                        incident_id: incident_id.to_owned(),
                        session,
                    }
                    .into(),
                    Err(failure) => not_told(incident_id, session, failure),
                };
            }
        };
        match note {
            Ok(note) => {
                let note = self
                    .notes
                    .add_or_log(&secrets, incident_id, &note, false, budget)
                    .await;
                Done::Commanded {
                    incident_id: incident_id.to_owned(),
                    command: command.name(),
                    session,
                    note,
                }
                .into()
            }
            Err(failure) => not_told(incident_id, session, failure),
        }
    }

    /// Whether the user `author` may give commands: anyone when `ALLOWED_COMMANDERS` is unset;
    /// else a listed id, or (when emails are listed) a user whose email is listed. A failure
    /// to look the email up refuses.
    async fn may_command(&self, author: Option<&str>, secrets: &Secrets, budget: Budget) -> bool {
        let Some(allowed) = &self.options.allowed_commanders else {
            return true;
        };
        let Some(author) = author else {
            return false;
        };
        if allowed.lists_id(author) {
            return true;
        }
        if !allowed.has_emails() || !self.pagerduty.readable(secrets) {
            return false;
        }
        match self.pagerduty.user_email(author, secrets, budget).await {
            Ok(email) => email.is_some_and(|email| allowed.lists_email(&email)),
            Err(failure) => {
                warn!(error = %failure, "the command's author was not looked up: refused");
                false
            }
        }
    }

    /// Ends the session and archives it, and closes it out in the ledger (its end is noted
    /// here, not by the follow-up): the note to post.
    pub(super) async fn stop(
        &self,
        incident_id: &str,
        session: &Session,
        who: Option<&str>,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<String, Failure<DevinError>> {
        let id = &session.session_id;
        match self.devin.terminate(id, secrets, budget, tally).await {
            Ok(()) => {}
            // Ended already: stopped all the same.
            Err(Failure::Final(err)) if err.is_session_closed() => {}
            Err(failure) => return Err(failure),
        }
        if let Err(err) = self.claims.close_out(incident_id, id, budget).await {
            warn!(error = %err, "the stopped session was not closed out: the follow-up notes its end too");
        }
        Ok(notes::stopped_note(session, who))
    }

    /// The session's state and latest findings: the note to post.
    async fn status(
        &self,
        session: &Session,
        secrets: &mut Arc<Secrets>,
        budget: Budget,
        tally: &mut Tally,
    ) -> Result<String, Failure<DevinError>> {
        let state = self
            .devin
            .session_state(&session.session_id, secrets, budget, tally)
            .await?;
        Ok(findings::status_note(&state, &session.url))
    }

    /// Refuses the command with a note that says why.
    async fn refuse(
        &self,
        command: &'static str,
        incident_id: &str,
        reason: &str,
        secrets: &Secrets,
        budget: Budget,
    ) -> Outcome {
        let note = notes::command_refused_note(command, reason);
        let note = self
            .notes
            .add_or_log(secrets, incident_id, &note, false, budget)
            .await;
        Done::CommandRefused {
            incident_id: incident_id.to_owned(),
            command,
            reason: reason.to_owned(),
            note,
        }
        .into()
    }
}
