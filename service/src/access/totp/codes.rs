//! A code as typed, checked and spent exactly once.

use chrono::Utc;
use entity::user_totp::{self, Column};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{TotpCipher, now_secs, recovery};
use crate::{Error, Result};

/// A code typed at the second step: six digits from the app, or a recovery code.
#[derive(Clone, PartialEq, Eq)]
pub enum Code {
    /// Six digits from the authenticator app.
    Totp(String),
    /// A recovery code, lowercased without spaces or dashes.
    Recovery(String),
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A code is a credential: never printed.
        f.write_str(match self {
            Self::Totp(_) => "Code::Totp(…)",
            Self::Recovery(_) => "Code::Recovery(…)",
        })
    }
}

impl Code {
    /// Reads what was typed into `field`: spaces are ignored (apps show `123 456`), and a
    /// recovery code may be typed in either case, with or without its dash.
    pub fn parse(raw: &str, field: &str) -> Result<Self> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.len() == 6 && compact.chars().all(|c| c.is_ascii_digit()) {
            return Ok(Self::Totp(compact));
        }
        match recovery::normalise(&compact) {
            Some(code) => Ok(Self::Recovery(code)),
            None if compact.is_empty() => Err(Error::invalid(field, "is required")),
            None => Err(Error::invalid(
                field,
                "must be the 6-digit code from your app or one of your recovery codes",
            )),
        }
    }

    /// The audit trail's word for the kind of code.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Totp(_) => "totp",
            Self::Recovery(_) => "recovery_code",
        }
    }
}

/// What a spent code was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// A code from the app, for this time step.
    Totp { step: u64 },
    /// A recovery code.
    Recovery,
}

impl Spent {
    /// The audit trail's word for it.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Totp { .. } => "totp",
            Self::Recovery => "recovery_code",
        }
    }
}

/// Checks `code` against the active credential `row` of `username` and spends it, in the
/// caller's transaction: `None` when it is wrong, outside ±1 step, or already used.
///
/// A TOTP code's step must be newer than the last accepted one, and is stored by
/// `UPDATE … SET last_step = :step WHERE user_id = :id AND last_step < :step`: of two
/// submissions of one code, racing on one instance or two, exactly one updates a row (the other
/// waits on the row lock, then finds the condition false). A recovery code is spent the same
/// way ([`recovery::spend`]).
pub(crate) async fn spend(
    db: &impl ConnectionTrait,
    cipher: &TotpCipher,
    row: &user_totp::Model,
    username: &str,
    code: &Code,
) -> Result<Option<Spent>> {
    match code {
        Code::Totp(digits) => {
            let totp = cipher.totp(row, username)?;
            let Some(step) = totp.check(digits, now_secs()) else {
                return Ok(None);
            };
            Ok(advance(db, row.user_id, step, false)
                .await?
                .then_some(Spent::Totp { step }))
        }
        Code::Recovery(code) => Ok(recovery::spend(db, row.user_id, code)
            .await?
            .then_some(Spent::Recovery)),
    }
}

/// Moves the user's last accepted step forward to `step`, if it is behind; with `confirming`,
/// only on a credential not yet confirmed, which it confirms. True when the row was updated.
pub(crate) async fn advance(
    db: &impl ConnectionTrait,
    user_id: i64,
    step: u64,
    confirming: bool,
) -> Result<bool> {
    let step = i64::try_from(step).map_err(Error::internal)?;
    let now = Utc::now().fixed_offset();
    let mut update = user_totp::Entity::update_many()
        .col_expr(Column::LastStep, Expr::value(step))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::LastStep.lt(step));
    update = if confirming {
        update
            .col_expr(Column::ConfirmedAt, Expr::value(Some(now)))
            .filter(Column::ConfirmedAt.is_null())
    } else {
        update.filter(Column::ConfirmedAt.is_not_null())
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_an_app_code_and_anything_else_of_the_right_shape_a_recovery_code() {
        assert_eq!(
            Code::parse(" 123 456 ", "code").unwrap(),
            Code::Totp("123456".into())
        );
        assert_eq!(
            Code::parse("ABCDE-FGHJK", "code").unwrap(),
            Code::Recovery("abcdefghjk".into())
        );
        assert!(Code::parse("", "code").is_err());
        assert!(Code::parse("12345", "code").is_err());
        assert!(Code::parse("not a code at all", "code").is_err());
    }

    #[test]
    fn a_code_never_prints() {
        let printed = format!("{:?}", Code::Totp("123456".into()));
        assert!(!printed.contains("123456"), "{printed}");
    }
}
