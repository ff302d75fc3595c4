//! The config forms: a new key (key, value, description) and a key's edit form (value,
//! description). The value is JSON typed in a textarea; an error names where it stops being
//! JSON, under the field, with the input kept.

use service::gateway::config::{ConfigInput, ConfigItem, ConfigKey, parse_json_text};

use crate::pages::Field;
use crate::routes::form_input::merge_errors;
use crate::routes::forms::page_form;

page_form! {
    /// A config form as sent (the key only on the new-key form).
    pub struct ConfigForm {
        pub key: String,
        pub value: String,
        pub description: String,
    }
}

const VALUE_HELP: &str = "JSON: an object, a list, \"text\", a number, true, false or null.";

impl ConfigForm {
    /// The form of a new key: an empty object as its value.
    pub fn blank() -> Self {
        Self {
            value: "{}".into(),
            ..Self::default()
        }
    }

    /// The edit form holding `item` as stored, its value pretty-printed.
    pub fn current(item: &ConfigItem) -> Self {
        Self {
            key: item.key.clone(),
            value: serde_json::to_string_pretty(&item.value).unwrap_or_default(),
            description: item.description.clone().unwrap_or_default(),
        }
    }

    /// The value and description the form sets.
    pub fn input(&self) -> Result<ConfigInput, service::Error> {
        let value = parse_json_text(&self.value, Self::value)?;
        ConfigInput::new(
            value,
            Some(&self.description),
            Self::value,
            Self::description,
        )
    }

    /// The key, value and description of the new-key form, every problem at once.
    pub fn new_key(&self) -> Result<(ConfigKey, ConfigInput), service::Error> {
        match (ConfigKey::parse(self.key.trim(), Self::key), self.input()) {
            (Ok(key), Ok(input)) => Ok((key, input)),
            (k, i) => Err(merge_errors(vec![k.err(), i.err()])
                .unwrap_or_else(|| service::Error::internal("no error"))),
        }
    }

    /// The edit form's fields with this input.
    pub fn edit_fields(&self) -> Vec<Field> {
        vec![
            Field::new(Self::value, "Value", "textarea")
                .value(&self.value)
                .help(VALUE_HELP),
            Field::new(Self::description, "Description", "text").value(&self.description),
        ]
    }

    /// The new-key form's fields with this input.
    pub fn new_fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::new(Self::key, "Key", "text").value(&self.key).help(
            "1–128 letters, digits, '.', '_' and '-', starting with a letter or a digit (feature.search_v2).",
        )];
        fields.extend(self.edit_fields());
        fields
    }
}
