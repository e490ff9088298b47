use serde::{Deserialize, Serialize};

/// Something a post-processor asks the host to do. The host checks the whole list with
/// [`check_actions`] before it carries out any of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", content = "value", rename_all = "snake_case")]
pub enum Action {
    SetDone,
    SetFailed(String),
    RecordPlayback(String),
    /// The DASH MPD players may use instead of the master playlist.
    RecordDashManifest(String),
    RecordThumbnail(String),
    RecordRenditions(Vec<Rendered>),
    RecordDuration(u64),
    DeleteSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub playlist_path: String,
}

/// A failure reason longer than this is cut: it is shown to people, not parsed.
pub const MAX_REASON_CHARS: usize = 500;

/// Refuses a list of actions that contradicts itself or points outside the job's outputs.
pub fn check_actions(actions: &[Action]) -> Result<(), String> {
    let done = actions.iter().filter(|a| matches!(a, Action::SetDone)).count();
    let failed = actions.iter().filter(|a| matches!(a, Action::SetFailed(_))).count();
    if done + failed != 1 {
        return Err(format!(
            "exactly one of set-done or set-failed is required; got {done} set-done and {failed} set-failed"
        ));
    }
    let has_playback = actions.iter().any(|a| matches!(a, Action::RecordPlayback(_)));
    if done == 1 && !has_playback {
        return Err("set-done without record-playback would publish a video nobody can play".into());
    }
    if failed == 1 && actions.iter().any(|a| matches!(a, Action::DeleteSource)) {
        return Err("delete-source with set-failed would lose the only copy of a video that failed".into());
    }
    for action in actions {
        let paths: Vec<&str> = match action {
            Action::RecordPlayback(p) | Action::RecordThumbnail(p) => vec![p],
            // Players are handed it as DASH: an HLS playlist or anything else here would not play.
            Action::RecordDashManifest(p) if !p.ends_with(".mpd") => {
                return Err(format!(
                    "record-dash-manifest: `{p}` is not a DASH manifest (an .mpd file)"
                ));
            }
            Action::RecordDashManifest(p) => vec![p],
            Action::RecordRenditions(r) => r.iter().map(|r| r.playlist_path.as_str()).collect(),
            Action::SetFailed(reason) if reason.trim().is_empty() => {
                return Err("set-failed needs a reason".into());
            }
            _ => vec![],
        };
        for path in paths {
            if !safe_relative_path(path) {
                return Err(format!("`{path}` is not a relative path inside the job's outputs"));
            }
        }
    }
    Ok(())
}

/// A relative key such as "index_720p.m3u8" or "thumbnails/thumb.jpg": no leading '/',
/// no '..', no backslashes or control characters.
pub fn safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_needs_playback_and_a_single_status() {
        assert!(check_actions(&[Action::SetDone]).is_err());
        assert!(check_actions(&[Action::RecordPlayback("index.m3u8".into()), Action::SetDone]).is_ok());
        assert!(check_actions(&[Action::SetDone, Action::SetFailed("x".into())]).is_err());
        assert!(check_actions(&[]).is_err());
    }

    #[test]
    fn failure_keeps_the_source() {
        assert!(check_actions(&[Action::SetFailed("bad".into()), Action::DeleteSource]).is_err());
    }

    #[test]
    fn paths_stay_inside_the_outputs() {
        for bad in ["/etc/passwd", "../x.m3u8", "a/../../b", "a\\b", ""] {
            let actions = [Action::RecordPlayback(bad.into()), Action::SetDone];
            assert!(check_actions(&actions).is_err(), "{bad:?} accepted");
        }
        for bad in ["/srv/index.mpd", "../index.mpd", "a/../../index.mpd"] {
            let actions = [
                Action::RecordPlayback("index.m3u8".into()),
                Action::RecordDashManifest(bad.into()),
                Action::SetDone,
            ];
            let refused = check_actions(&actions).unwrap_err();
            assert!(refused.contains("not a relative path"), "{bad:?}: {refused}");
        }
    }

    #[test]
    fn a_dash_manifest_is_an_mpd() {
        let with = |dash: &str| {
            check_actions(&[
                Action::RecordPlayback("index.m3u8".into()),
                Action::RecordDashManifest(dash.into()),
                Action::SetDone,
            ])
        };
        assert!(with("index.mpd").is_ok());
        assert!(with("dash/index.mpd").is_ok());
        let refused = with("index.m3u8").unwrap_err();
        assert_eq!(
            refused,
            "record-dash-manifest: `index.m3u8` is not a DASH manifest (an .mpd file)"
        );
    }
}
