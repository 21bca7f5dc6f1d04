//! The client's setup advice in the words of this program: where the user gives the client
//! secret (environment variable, flag) and how `--domain` takes a My Domain. The client knows
//! neither, so its errors carry a [`SetupHint`] instead, and the commands word it here.

use crate::salesforce::{SetupHint, SfError};

/// The text users see for `error`: the client's message, with the advice of a [`SetupHint`]
/// naming the flag or environment variable that fixes it.
pub fn user_message(error: &SfError) -> String {
    match error.setup_hint() {
        Some(hint @ SetupHint::ClientCredentials) => error.with_advice(&format!(
            "{} (client secret from SFMOUNT_CLIENT_SECRET or --client-secret-file)",
            hint.advice()
        )),
        Some(SetupHint::MyDomain) => error.with_advice(
            "use your My Domain host (e.g. --domain mycompany or mycompany.my.salesforce.com), not login.salesforce.com or test.salesforce.com",
        ),
        None => error.to_string(),
    }
}

/// [`user_message`] as an error the commands can add context to.
pub fn with_flag_hints(error: SfError) -> anyhow::Error {
    anyhow::Error::msg(user_message(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(message: &str, hint: SetupHint) -> SfError {
        SfError::Auth {
            message: message.into(),
            hint: Some(hint),
        }
    }

    #[test]
    fn hinted_advice_names_the_flags() {
        let secret = user_message(&refused(
            "invalid_client: invalid client credentials",
            SetupHint::ClientCredentials,
        ));
        assert_eq!(
            secret,
            "Salesforce authentication failed: invalid_client: invalid client credentials; check the Consumer Key (client_id) and Consumer Secret of the Connected App (client secret from SFMOUNT_CLIENT_SECRET or --client-secret-file)"
        );
        let domain = user_message(&refused(
            "invalid_grant: request not supported on this domain",
            SetupHint::MyDomain,
        ));
        assert_eq!(
            domain,
            "Salesforce authentication failed: invalid_grant: request not supported on this domain; use your My Domain host (e.g. --domain mycompany or mycompany.my.salesforce.com), not login.salesforce.com or test.salesforce.com"
        );
        let plain = SfError::Auth {
            message: "the session was rejected".into(),
            hint: None,
        };
        assert_eq!(user_message(&plain), plain.to_string());
    }
}
