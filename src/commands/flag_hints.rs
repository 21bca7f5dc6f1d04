//! The client's setup advice in the words of this program: where the user gives the client
//! secret (environment variable, flag) and how `--domain` takes a My Domain. The client knows
//! neither, so its errors carry a [`SetupHint`] instead, and the commands word it here.

use crate::salesforce::{SetupHint, SfError};

/// The text users see for `error`: the client's message, with the advice of a [`SetupHint`]
/// naming the flag or environment variable that fixes it.
pub fn user_message(error: &SfError) -> String {
    match error.setup_hint() {
        Some(SetupHint::ClientCredentials) => error.with_advice(
            "check the Consumer Key (client_id) and Consumer Secret of the Connected App (client secret from SFMOUNT_CLIENT_SECRET or --client-secret-file)",
        ),
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

    fn refused(hint: SetupHint) -> SfError {
        SfError::Auth {
            message: "invalid_grant: request not supported on this domain".into(),
            hint: Some(hint),
        }
    }

    #[test]
    fn hinted_advice_names_the_flags() {
        let secret = user_message(&refused(SetupHint::ClientCredentials));
        assert!(secret.ends_with("Consumer Secret of the Connected App (client secret from SFMOUNT_CLIENT_SECRET or --client-secret-file)"), "{secret}");
        let domain = user_message(&refused(SetupHint::MyDomain));
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
