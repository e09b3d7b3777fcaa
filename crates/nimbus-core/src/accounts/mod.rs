//! Console accounts: the roles a person holds per product environment, what each role may
//! do, and the rules for e-mail addresses and passwords. Pure rules; the app layer stores
//! users and enforces these on every console path.

pub mod totp;

use std::fmt;
use std::str::FromStr;

/// A person's role in one product environment. Each role can do what the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads assets, metadata and settings.
    Viewer,
    /// Also uploads, edits and deletes assets.
    Editor,
    /// Also manages the metadata schema, upload presets, named transformations and API keys.
    Admin,
    /// Also manages people and their roles.
    Owner,
}

/// Something a console path does, checked against the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadAssets,
    WriteAssets,
    ManageSchema,
    ManagePresets,
    ManageKeys,
    ManageUsers,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// The least role that may do `p`.
    fn least_for(p: Permission) -> Role {
        match p {
            Permission::ReadAssets => Role::Viewer,
            Permission::WriteAssets => Role::Editor,
            Permission::ManageSchema | Permission::ManagePresets | Permission::ManageKeys => Role::Admin,
            Permission::ManageUsers => Role::Owner,
        }
    }

    pub fn allows(self, p: Permission) -> bool {
        self >= Role::least_for(p)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("Invalid role {0}: owner, admin, editor or viewer")]
    Role(String),
    #[error("Invalid e-mail address")]
    Email,
    #[error("The password must have at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("The password must have at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
}

impl FromStr for Role {
    type Err = AccountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| AccountError::Role(s.to_owned()))
    }
}

/// An e-mail address as accounts are keyed by it: trimmed, lower-cased, one `@` with text on
/// both sides, a dot in the domain, no spaces or control characters, at most 254 bytes.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ','))
        && matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok { Ok(e) } else { Err(AccountError::Email) }
}

/// Fewest characters a password may have (NIST SP 800-63B's floor for chosen passwords).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most bytes a password may have: hashing is bounded before it starts.
pub const MAX_PASSWORD_BYTES: usize = 1024;

pub fn check_password(p: &str) -> Result<(), AccountError> {
    if p.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::PasswordTooLong);
    }
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Viewer.allows(Permission::ReadAssets));
        assert!(!Role::Viewer.allows(Permission::WriteAssets));
        assert!(Role::Editor.allows(Permission::WriteAssets));
        assert!(!Role::Editor.allows(Permission::ManageKeys));
        assert!(Role::Admin.allows(Permission::ManageKeys));
        assert!(!Role::Admin.allows(Permission::ManageUsers));
        assert!(Role::Owner.allows(Permission::ManageUsers));
        assert_eq!("editor".parse::<Role>(), Ok(Role::Editor));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn email_addresses_are_normalized_or_refused() {
        assert_eq!(normalize_email("  Ada@Example.ORG ").as_deref(), Ok("ada@example.org"));
        for bad in ["", "ada", "@example.org", "ada@", "ada@example", "a b@example.org", "a@b@example.org", "a@.org"] {
            assert_eq!(normalize_email(bad), Err(AccountError::Email), "{bad}");
        }
    }

    #[test]
    fn passwords_are_bounded() {
        assert_eq!(check_password("short"), Err(AccountError::PasswordTooShort));
        assert!(check_password("long enough").is_ok());
        assert_eq!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)), Err(AccountError::PasswordTooLong));
    }
}
