//! The device list (`/registry/devices`) and creating a device by hand (`/registry/devices/new`).

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::pagination::PageRequest;
use service::registry::{
    DeviceFilter, DeviceKey, DeviceSort, DeviceView, RawDevice, devices, entities,
};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    Cell, Choice, Field, FilterField, FormView, ListRow, PageContext, Row, Table, rows,
};
use crate::routes::form_input::when_or;
use crate::routes::forms::PageForm;
use crate::routes::router::Router;
use crate::routes::views::{FormPage, ListPage};
use crate::state::AppState;

/// Counting stops here; beyond it the page says "1,000+" (no full `COUNT(*)` per view).
const COUNT_CAP: u64 = 1_000;

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    area_id: Option<String>,
    manufacturer: Option<String>,
    integration: Option<String>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
    before: Option<String>,
}

fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, message)
}

const SORTS: &[(&str, &str)] = &[
    ("device_id", "Device id, A → Z"),
    ("-device_id", "Device id, Z → A"),
    ("name", "Name, A → Z"),
    ("-name", "Name, Z → A"),
];

fn text_filter(name: &'static str, label: &'static str, value: &Option<String>) -> FilterField {
    FilterField {
        name,
        label,
        value: value.clone().unwrap_or_default(),
        options: vec![],
    }
}

/// A device in the device list, with its entity count from `counts` (device id and count,
/// read beside the page in one query).
impl ListRow<[(String, i64)]> for DeviceView {
    fn row(&self, counts: &[(String, i64)]) -> Row {
        let d = self;
        let entity_count = counts
            .iter()
            .find(|(id, _)| *id == d.device_id)
            .map_or(0, |(_, n)| *n);
        let opt = |v: &Option<String>| Cell::text(v.clone().unwrap_or_default());
        vec![
            Cell::link(&d.device_id, format!("/registry/devices/{}", d.device_id)),
            Cell::text(&d.name),
            opt(&d.manufacturer),
            opt(&d.model),
            opt(&d.area_id),
            opt(&d.integration),
            Cell::text(entity_count.to_string()),
            Cell::text(when_or(d.last_seen, "never")),
        ]
    }
}

/// Thousands separators for the count line.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn list(
    ctx: PageContext,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let sort_raw = query.sort.clone().unwrap_or_default();
    let sort = DeviceSort::parse(&sort_raw)
        .ok_or_else(|| bad_request("The sort is device_id, -device_id, name or -name."))?;
    let limit = query.limit.or(Some(ctx.ui().page_size));
    let page = PageRequest::<DeviceKey>::parse_both(
        limit,
        query.cursor.as_deref(),
        query.before.as_deref(),
    )
    .map_err(|e| bad_request(e.to_string()))?;
    let filter = DeviceFilter {
        area_id: query.area_id.clone(),
        manufacturer: query.manufacturer.clone(),
        integration: query.integration.clone(),
        q: query.q.clone(),
    };
    let found = devices::list(&state.db, &filter, sort, &page)
        .await
        .map_err(|e| bad_request(e.to_string()))?;
    let ids: Vec<String> = found.items.iter().map(|d| d.device_id.clone()).collect();
    let counts = entities::counts_by_device(&state.db, &ids).await?;
    // A text search cannot use an index, so counting its matches would read the whole table
    // on every view; the page then says only whether more pages follow.
    let searching = filter.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    let note = if searching && found.next_cursor.is_some() {
        format!(
            "The first {} matching devices are shown; the next page has more.",
            found.items.len()
        )
    } else {
        let matching = if searching {
            found.items.len() as u64
        } else {
            devices::count_capped(&state.db, &filter, COUNT_CAP).await?
        };
        match matching {
            n if n > COUNT_CAP => format!("{}+ devices match.", thousands(COUNT_CAP)),
            1 => "1 device matches.".to_string(),
            n => format!("{} devices match.", thousands(n)),
        }
    };
    // What the header and next-page links keep of this view.
    let kept = [
        ("q", query.q.clone()),
        ("area_id", query.area_id.clone()),
        ("manufacturer", query.manufacturer.clone()),
        ("integration", query.integration.clone()),
        ("limit", query.limit.map(|l| l.to_string())),
    ];
    let mut paged = kept.to_vec();
    paged.push(("sort", query.sort.clone()));
    let table = Table {
        columns: vec![
            "Device id",
            "Name",
            "Manufacturer",
            "Model",
            "Area",
            "Integration",
            "Entities",
            "Last seen",
        ],
        rows: rows(&found.items, counts.as_slice()),
        filters: vec![
            text_filter("q", "Search", &query.q),
            text_filter("area_id", "Area", &query.area_id),
            text_filter("manufacturer", "Manufacturer", &query.manufacturer),
            text_filter("integration", "Integration", &query.integration),
            FilterField {
                name: "sort",
                label: "Sort by",
                value: sort.as_str().to_string(),
                options: SORTS
                    .iter()
                    .map(|(value, label)| Choice {
                        value: value.to_string(),
                        label: label.to_string(),
                        checked: *value == sort.as_str(),
                    })
                    .collect(),
            },
        ],
        action: "/registry/devices".into(),
        next_url: None,
        sort_links: Vec::new(),
        empty: "No devices match these filters.",
    }
    .sortable(
        "/registry/devices",
        &kept,
        &[(0, "device_id"), (1, "name")],
        sort.as_str(),
    )
    .paginate_both(
        "/registry/devices",
        &paged,
        found.prev_cursor,
        found.next_cursor,
    );
    let mut actions = Vec::new();
    if ctx.may(Permission::RegistryWrite) {
        actions.push(("New device", "/registry/devices/new".to_string()));
    }
    ctx.render(&ListPage {
        layout: ctx.layout("Devices"),
        table,
        actions,
        note: Some(note),
    })
}

/// The device form, as sent; `device_id` only when creating (a device keeps its id).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeviceForm {
    pub device_id: String,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub area_id: String,
    pub integration: String,
    /// RFC 3339; empty for never.
    pub last_seen: String,
}

impl DeviceForm {
    /// The form's fields with these values; `with_id` adds the device id field.
    pub fn fields(&self, with_id: bool) -> Vec<Field> {
        let mut fields = Vec::new();
        if with_id {
            fields.push(
                Field::new("device_id", "Device id", "text")
                    .value(&self.device_id)
                    .help("1 to 255 characters: letters, digits and . _ : @ -"),
            );
        }
        fields.extend([
            Field::new("name", "Name", "text").value(&self.name),
            Field::new("manufacturer", "Manufacturer", "text").value(&self.manufacturer),
            Field::new("model", "Model", "text").value(&self.model),
            Field::new("area_id", "Area", "text").value(&self.area_id),
            Field::new("integration", "Integration", "text").value(&self.integration),
            Field::new("last_seen", "Last seen", "text")
                .value(&self.last_seen)
                .help("RFC 3339, e.g. 2026-11-22T19:03:00Z; empty for never."),
        ]);
        fields
    }

    /// The device the form describes, as `device_id`; empty optional fields are null.
    /// The registry's own parsing checks it (with errors keyed by these field names).
    pub fn raw(&self, device_id: String) -> RawDevice {
        let opt = |v: &String| Some(v.clone()).filter(|v| !v.trim().is_empty());
        RawDevice {
            device_id: Some(device_id),
            name: Some(self.name.clone()),
            manufacturer: opt(&self.manufacturer),
            model: opt(&self.model),
            area_id: opt(&self.area_id),
            integration: opt(&self.integration),
            last_seen: opt(&self.last_seen),
        }
    }

    fn new_form(&self) -> FormView {
        FormView::new("/registry/devices/new", "Create device", self.fields(true))
    }
}

async fn new_page(ctx: PageContext) -> Result<HttpResponse, PageError> {
    ctx.render(&FormPage {
        layout: ctx.layout("New device"),
        form: DeviceForm::default().new_form(),
        intro: None,
    })
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<DeviceForm>,
) -> Result<HttpResponse, PageError> {
    let id = form.device_id.trim().to_string();
    let created = match form.raw(id.clone()).parse() {
        Ok(device) => match devices::find(&state.db, &id).await {
            Ok(_) => Err(service::Error::Conflict {
                message: format!("the device {id} already exists"),
                details: vec![service::FieldError::new("device_id", "is taken")],
            }),
            Err(service::Error::NotFound(_)) => {
                devices::put(&state.db, &acting.actor(), acting.ip(), device).await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match created {
        Ok((device, _)) => Ok(ctx.redirect(
            &format!("/registry/devices/{}", device.device_id),
            Flash::success(format!("The device {} was created.", device.name)),
        )),
        Err(e) => ctx.form_again(e, "New device", form.new_form()),
    }
}

/// Registers the device list and the creation form (before `/registry/devices/{device_id}`).
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::RegistryRead);
    let write = Access::Permission(Permission::RegistryWrite);
    r.page(Method::GET, "/registry/devices", read, list)
        .page(Method::GET, "/registry/devices/new", write, new_page)
        .page(Method::POST, "/registry/devices/new", write, create);
}
