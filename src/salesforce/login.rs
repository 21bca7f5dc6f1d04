//! Where to log in: My Domain names and explicit login URLs, mapped to the token endpoint.
//!
//! The one place that says which domains and login URLs are acceptable: the settings check
//! them with [`validate_domain`] and [`validate_login_url`] before connecting, and
//! [`LoginTarget::base_url`] applies the same rules, so the two can never disagree.

use super::error::SfError;

/// The host the OAuth token request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginTarget {
    /// My Domain: `acme`, `acme.my.salesforce.com`, `acme--dev.sandbox` or the full sandbox host.
    Domain(String),
    /// An explicit base URL (`https://acme.my.salesforce.com`, or a fake org's `http://127.0.0.1:PORT`).
    Url(String),
}

/// Why a domain or login URL is unusable. Worded without flag or key names: the caller knows
/// how the user gave the value and adds that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginProblem {
    #[error("it is empty")]
    Empty,
    #[error("Salesforce domains are HTTPS only")]
    PlainHttpDomain,
    #[error("it contains {0:?}; only letters, digits, '-' and '.' are allowed")]
    BadCharacter(char),
    #[error("it has an empty label between dots")]
    EmptyLabel,
    #[error("{0}")]
    NotAUrl(String),
    #[error("scheme {0:?} is not http or https")]
    BadScheme(String),
    #[error("it has no host")]
    NoHost,
    #[error("credentials do not belong in the URL")]
    Credentials,
}

const MY_DOMAIN_SUFFIX: &str = ".my.salesforce.com";

/// A My Domain as the user wrote it, without a pasted `https://` prefix or trailing slash
/// (browsers show the domain that way, so both are forgiven). Case is kept; the host is
/// lower-cased only when the URL is built.
pub fn validate_domain(domain: &str) -> Result<String, LoginProblem> {
    let trimmed = domain.trim();
    let trimmed = trimmed
        .strip_prefix("https://")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(LoginProblem::Empty);
    }
    if trimmed.starts_with("http://") {
        return Err(LoginProblem::PlainHttpDomain);
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(LoginProblem::BadCharacter(c));
    }
    if trimmed.starts_with('.') || trimmed.ends_with('.') || trimmed.contains("..") {
        return Err(LoginProblem::EmptyLabel);
    }
    Ok(trimmed.to_string())
}

/// A login host's base URL: http or https (plain HTTP is for a fake org on loopback), a host,
/// no credentials; returned without the trailing slash.
pub fn validate_login_url(text: &str) -> Result<String, LoginProblem> {
    let trimmed = text.trim();
    let url = url::Url::parse(trimmed).map_err(|e| LoginProblem::NotAUrl(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(LoginProblem::BadScheme(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(LoginProblem::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LoginProblem::Credentials);
    }
    Ok(trimmed.trim_end_matches('/').to_string())
}

impl LoginTarget {
    /// The base URL (scheme and host, no trailing slash) of the login host.
    pub fn base_url(&self) -> Result<String, SfError> {
        match self {
            LoginTarget::Url(raw) => validate_login_url(raw).map_err(|problem| SfError::Config {
                message: format!("bad login URL {:?}: {problem}", raw.trim()),
            }),
            LoginTarget::Domain(raw) => domain_base_url(raw),
        }
    }
}

/// `acme` → `https://acme.my.salesforce.com`; `acme--dev.sandbox` →
/// `https://acme--dev.sandbox.my.salesforce.com`; full hosts are kept.
fn domain_base_url(raw: &str) -> Result<String, SfError> {
    let host = validate_domain(raw)
        .map_err(|problem| SfError::Config {
            message: format!(
                "bad domain {raw:?}: {problem}; give the My Domain name (mycompany, mycompany.my.salesforce.com or mycompany--dev.sandbox)"
            ),
        })?
        .to_ascii_lowercase();
    // Client credentials only works on the org's own My Domain host; the shared login hosts
    // answer "request not supported on this domain", so say it before the round trip.
    if matches!(
        host.as_str(),
        "login" | "test" | "login.salesforce.com" | "test.salesforce.com"
    ) {
        return Err(SfError::Config {
            message: format!(
                "{raw:?} is a shared login host; the client credentials flow needs your My Domain (e.g. mycompany or mycompany--dev.sandbox)"
            ),
        });
    }
    let full = if host.ends_with(MY_DOMAIN_SUFFIX) || host.ends_with(".salesforce.com") {
        host
    } else if let Some(prefix) = host.strip_suffix(".my") {
        // simple-salesforce users write `acme.my`.
        format!("{prefix}{MY_DOMAIN_SUFFIX}")
    } else {
        format!("{host}{MY_DOMAIN_SUFFIX}")
    };
    Ok(format!("https://{full}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(d: &str) -> Result<String, SfError> {
        LoginTarget::Domain(d.into()).base_url()
    }

    #[test]
    fn my_domain_forms() {
        assert_eq!(domain("acme").unwrap(), "https://acme.my.salesforce.com");
        assert_eq!(
            domain("acme.my.salesforce.com").unwrap(),
            "https://acme.my.salesforce.com"
        );
        assert_eq!(
            domain(" Acme.My.Salesforce.com/ ").unwrap(),
            "https://acme.my.salesforce.com"
        );
        assert_eq!(
            domain("https://acme.my.salesforce.com").unwrap(),
            "https://acme.my.salesforce.com"
        );
        assert_eq!(domain("acme.my").unwrap(), "https://acme.my.salesforce.com");
    }

    #[test]
    fn sandbox_forms() {
        assert_eq!(
            domain("acme--dev.sandbox").unwrap(),
            "https://acme--dev.sandbox.my.salesforce.com"
        );
        assert_eq!(
            domain("acme--dev.sandbox.my.salesforce.com").unwrap(),
            "https://acme--dev.sandbox.my.salesforce.com"
        );
    }

    #[test]
    fn bad_domains_are_clear_errors() {
        for bad in [
            "",
            "login",
            "test.salesforce.com",
            "acme corp",
            "acme/x",
            "a?b",
        ] {
            let err = domain(bad).unwrap_err();
            assert!(matches!(err, SfError::Config { .. }), "{bad}: {err}");
        }
        assert!(domain("login")
            .unwrap_err()
            .to_string()
            .contains("My Domain"));
    }

    #[test]
    fn explicit_urls() {
        let url = LoginTarget::Url("http://127.0.0.1:8080/".into())
            .base_url()
            .unwrap();
        assert_eq!(url, "http://127.0.0.1:8080");
        assert!(LoginTarget::Url("ftp://x".into()).base_url().is_err());
        assert!(LoginTarget::Url("not a url".into()).base_url().is_err());
    }

    #[test]
    fn domains_and_login_urls_are_validated() {
        assert_eq!(validate_domain("acme").unwrap(), "acme");
        assert_eq!(
            validate_domain("acme--dev.sandbox").unwrap(),
            "acme--dev.sandbox"
        );
        assert_eq!(
            validate_domain("https://acme.my.salesforce.com/").unwrap(),
            "acme.my.salesforce.com"
        );
        for bad in [
            "",
            "acme corp",
            "acme/x",
            "http://acme.my.salesforce.com",
            "acme..x",
            ".acme",
        ] {
            assert!(validate_domain(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_login_url("https://login.example.com/").unwrap(),
            "https://login.example.com"
        );
        for bad in [
            "127.0.0.1:8080",
            "ftp://host",
            "http://",
            "https://user:pw@host",
            "not a url",
        ] {
            assert!(validate_login_url(bad).is_err(), "{bad:?}");
        }
    }
}
