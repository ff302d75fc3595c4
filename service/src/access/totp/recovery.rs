//! Recovery codes: ten one-time codes for a lost phone, stored as SHA-256 hashes.
//!
//! Each code is ten characters from a 31-letter alphabet without look-alikes (about 50 bits),
//! drawn from the operating system's generator: far beyond guessing at five attempts per
//! quarter hour, so a fast hash is enough, and it lets a code be found and spent by its hash in
//! one conditional UPDATE.

use chrono::{DateTime, FixedOffset};
use entity::user_recovery_codes::{self, Column, Entity};
use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::Result;

/// How many codes a user gets at a time.
pub const COUNT: usize = 10;

/// Letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Characters in a code (shown as two groups of five).
const LENGTH: usize = 10;

/// Ten new codes, as shown: `abcde-fghjk`.
pub fn generate() -> Vec<String> {
    let mut rng = rand::rng();
    (0..COUNT)
        .map(|_| {
            let chars: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A code as typed, lowercased without its dash; `None` when it cannot be one.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored hash of a normalised code.
fn hash(normalised: &str) -> String {
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// Replaces every code of `user_id` with `codes` (as shown), in the caller's transaction.
pub(crate) async fn replace(
    db: &impl ConnectionTrait,
    user_id: i64,
    codes: &[String],
    now: DateTime<FixedOffset>,
) -> Result<()> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let rows =
        codes
            .iter()
            .filter_map(|c| normalise(c))
            .map(|code| user_recovery_codes::ActiveModel {
                user_id: Set(user_id),
                code_hash: Set(hash(&code)),
                used_at: Set(None),
                created_at: Set(now),
                ..Default::default()
            });
    Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Spends the unused code `normalised` of `user_id`: true for exactly one of any number of
/// concurrent submissions of it (`UPDATE … WHERE used_at IS NULL`), false when it is unknown
/// or spent.
pub(crate) async fn spend(
    db: &impl ConnectionTrait,
    user_id: i64,
    normalised: &str,
) -> Result<bool> {
    let now = chrono::Utc::now().fixed_offset();
    let updated = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(Some(now)))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::CodeHash.eq(hash(normalised)))
        .filter(Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// How many unused codes `user_id` has.
pub async fn left(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::UsedAt.is_null())
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_distinct_and_read_back_as_typed() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), LENGTH + 1);
            let typed = code.to_uppercase().replace('-', " ");
            assert_eq!(
                normalise(&typed).as_deref(),
                Some(code.replace('-', "").as_str())
            );
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
    }

    #[test]
    fn look_alikes_and_wrong_lengths_are_no_code() {
        assert_eq!(normalise("abcde-fghj0"), None);
        assert_eq!(normalise("abcde"), None);
    }
}
