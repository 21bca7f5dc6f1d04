//! Where to log in: My Domain names and explicit login URLs, mapped to the token endpoint.

use super::error::SfError;

/// The host the OAuth token request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginTarget {
    /// My Domain: `acme`, `acme.my.salesforce.com`, `acme--dev.sandbox` or the full sandbox host.
    Domain(String),
    /// An explicit base URL (`https://acme.my.salesforce.com`, or a fake org's `http://127.0.0.1:PORT`).
    Url(String),
}

const MY_DOMAIN_SUFFIX: &str = ".my.salesforce.com";

impl LoginTarget {
    /// The base URL (scheme and host, no trailing slash) of the login host.
    pub fn base_url(&self) -> Result<String, SfError> {
        match self {
            LoginTarget::Url(raw) => {
                let trimmed = raw.trim().trim_end_matches('/');
                let parsed = url::Url::parse(trimmed).map_err(|e| SfError::Config {
                    message: format!("login URL {trimmed:?} is not a valid URL ({e})"),
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(SfError::Config {
                        message: format!(
                            "login URL {trimmed:?} must be http:// or https:// with a host"
                        ),
                    });
                }
                Ok(trimmed.to_string())
            }
            LoginTarget::Domain(raw) => domain_base_url(raw),
        }
    }
}

/// `acme` → `https://acme.my.salesforce.com`; `acme--dev.sandbox` →
/// `https://acme--dev.sandbox.my.salesforce.com`; full hosts are kept.
fn domain_base_url(raw: &str) -> Result<String, SfError> {
    let mut host = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = host.strip_prefix(scheme) {
            host = rest.to_string();
        }
    }
    if host.is_empty() {
        return Err(SfError::Config {
            message: "the domain is empty; give your My Domain name, e.g. --domain mycompany"
                .into(),
        });
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(SfError::Config {
            message: format!(
                "domain {raw:?} contains {bad:?}; give the My Domain name (mycompany, mycompany.my.salesforce.com or mycompany--dev.sandbox)"
            ),
        });
    }
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
}
