//! Fake-only controls outside `/services`: counters, faults, undelete, the server clock.

use serde_json::Value;

use super::dispatch::{write_store, Incoming};
use super::reply::{ApiError, Reply};
use super::state::{Faults, RequestKind, Shared};

pub(super) fn control(shared: &Shared, req: &Incoming, rest: &[&str]) -> Reply {
    let result = match (req.method.as_str(), rest) {
        ("GET", ["stats"]) => serde_json::to_value(shared.stats())
            .map(Reply::ok)
            .map_err(|e| ApiError::new(500, "UNKNOWN_EXCEPTION", e.to_string())),
        ("POST" | "DELETE", ["stats"]) | ("POST", ["stats", "reset"]) => {
            shared.reset_stats();
            Ok(Reply::no_content())
        }
        ("POST", ["faults"]) => match serde_json::from_slice::<Faults>(&req.body) {
            Ok(faults) => match faults.invalid_setting() {
                // Nothing is applied when one setting is wrong, so a typo changes nothing.
                Some(problem) => Err(ApiError::new(400, "INVALID_INPUT", problem)),
                None => {
                    shared.apply_faults(&faults);
                    Ok(Reply::no_content())
                }
            },
            Err(err) => Err(ApiError::malformed_json(&err.to_string())),
        },
        ("POST", ["undelete", id]) => {
            shared.count(RequestKind::Mutation);
            write_store(shared)
                .undelete(id)
                .map(|()| Reply::no_content())
                .map_err(ApiError::from)
        }
        ("POST", ["clock"]) => match serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|v| v.get("advance_secs").and_then(Value::as_u64))
        {
            Some(secs) => {
                shared.advance_clock(std::time::Duration::from_secs(secs));
                Ok(Reply::no_content())
            }
            None => Err(ApiError::malformed_json(
                "expected {\"advance_secs\": <non-negative integer>}",
            )),
        },
        (_, ["stats" | "faults" | "clock"]) | (_, ["undelete", _]) => {
            Err(ApiError::method_not_allowed(&req.method, &["GET", "POST"]))
        }
        _ => Err(ApiError::not_found()),
    };
    result.unwrap_or_else(ApiError::into_reply)
}
