//! The incident's life as docs/design.md tells it: its table of states is the one in the code.
//! (The life itself, end to end on the moto ledger, is in `tests/bridge/incident_life.rs`.)

use crate::support::*;

/// The table of the incident's life (docs/design.md) names every state `pure::life` knows, each
/// with an owner, and nothing else.
#[test]
fn the_readmes_state_table_is_the_one_in_the_code() {
    use pure::life::records::{Claimed, IncidentRecord};
    use pure::life::session::Session;
    use pure::life::state_name;
    let session = Session {
        session_id: "s".into(),
        url: "u".into(),
    };
    let records = [
        IncidentRecord::Creating(Claimed {
            holder: "h".into(),
            lease_until_ms: 0,
            generation: 1,
            took_over: None,
            spent: false,
            after_cap: false,
        }),
        IncidentRecord::Pending { generation: 1 },
        IncidentRecord::Created {
            session: session.clone(),
            generation: 1,
        },
        IncidentRecord::Deferred { until_ms: 0 },
        IncidentRecord::Capped {
            until_ms: None,
            generation: 1,
        },
        IncidentRecord::Rejected { generation: 1 },
        IncidentRecord::Ended {
            session,
            generation: 1,
        },
        IncidentRecord::SkippedResolved { generation: 1 },
    ];
    let mut in_code: Vec<&str> = records.iter().map(state_name).collect();
    in_code.sort();
    let readme = std::fs::read_to_string(repo_path("docs/design.md")).unwrap();
    let start = readme.find("### The incident's life").unwrap();
    let rows: Vec<Vec<&str>> = readme[start..]
        .lines()
        .skip_while(|line| !line.starts_with("| State"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.split('|').map(str::trim).collect())
        .collect();
    let mut in_readme: Vec<&str> = rows
        .iter()
        .filter_map(|row| row[1].split('`').nth(1))
        .collect();
    in_readme.sort();
    assert_eq!(in_readme, in_code);
    assert!(rows.iter().all(|row| row.len() == 8 && !row[2].is_empty()));
}
