//! The device list (`/registry/devices`) and creating a device by hand (`/registry/devices/new`).

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::access::Permission;
use service::pagination::{Page, PageRequest};
use service::registry::{
    DeviceFilter, DeviceKey, DeviceSort, DeviceView, RawDevice, devices, entities,
};
use service::vocabulary::{self, KNOWN_VALUES};

use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    BulkAction, Cell, Field, FilterField, FormView, ListRow, PageContext, PagerQuery, Row, Table,
    count_of, rows, thousands,
};
use crate::routes::bulk::{self, BulkList, Described};
use crate::routes::form_input::{local_utc, when_or};
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
    from: Option<u64>,
}

const SORTS: &[(&str, &str)] = &[
    ("device_id", "Device id, A → Z"),
    ("-device_id", "Device id, Z → A"),
    ("name", "Name, A → Z"),
    ("-name", "Name, Z → A"),
];

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
            Cell::short(&d.device_id, 40).linked(format!("/registry/devices/{}", d.device_id)),
            Cell::text(&d.name),
            opt(&d.manufacturer),
            opt(&d.model),
            opt(&d.area_id),
            opt(&d.integration),
            Cell::text(entity_count.to_string()),
            Cell::time(when_or(d.last_seen, "never")),
        ]
    }
}

/// The sort, the filter and the page a device-list query asks for; a bad value is an error
/// under its field.
fn parse(
    query: &ListQuery,
    page_size: u64,
) -> Result<(DeviceSort, DeviceFilter, PageRequest<DeviceKey>), service::Error> {
    let sort = DeviceSort::parse(query.sort.as_deref().unwrap_or_default()).ok_or_else(|| {
        service::Error::invalid("sort", "must be device_id, -device_id, name or -name")
    })?;
    let page = PageRequest::<DeviceKey>::parse_both(
        query.limit.or(Some(page_size)),
        query.cursor.as_deref(),
        query.before.as_deref(),
    )?;
    let filter = DeviceFilter {
        area_id: query.area_id.clone(),
        manufacturer: query.manufacturer.clone(),
        integration: query.integration.clone(),
        q: query.q.clone(),
    };
    Ok((sort, filter, page))
}

/// The line above the table: how many devices match, counted up to [`COUNT_CAP`].
async fn count_note(
    state: &AppState,
    filter: &DeviceFilter,
    found: &Page<DeviceView>,
) -> Result<String, PageError> {
    // A text search cannot use an index, so counting its matches would read the whole table
    // on every view; the page then says only whether more pages follow.
    let searching = filter.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    if searching && found.next_cursor.is_some() {
        return Ok(format!(
            "The first {} matching devices are shown; the next page has more.",
            found.items.len()
        ));
    }
    let matching = if searching {
        found.items.len() as u64
    } else {
        devices::count_capped(&state.db, filter, COUNT_CAP).await?
    };
    Ok(match matching {
        n if n > COUNT_CAP => format!("{}+ devices match.", thousands(COUNT_CAP)),
        1 => "1 device matches.".to_string(),
        n => format!("{} devices match.", thousands(n)),
    })
}

async fn list(
    ctx: PageContext,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let here = match req.query_string() {
        "" => LIST.to_string(),
        q => format!("{LIST}?{q}"),
    };
    let (found, request, note, refused) = match parse(&query, ctx.ui().page_size) {
        Ok((sort, filter, request)) => {
            let found = devices::list(&state.db, &filter, sort, &request).await?;
            let note = count_note(&state, &filter, &found).await?;
            (found, Some(request), Some(note), None)
        }
        Err(e @ service::Error::Validation(_)) => (Page::empty(), None, None, Some(e)),
        Err(e) => return Err(e.into()),
    };
    let sort = DeviceSort::parse(query.sort.as_deref().unwrap_or_default()).unwrap_or_default();
    let ids: Vec<String> = found.items.iter().map(|d| d.device_id.clone()).collect();
    let counts = entities::counts_by_device(&state.db, &ids).await?;
    let known =
        |column: &'static str| vocabulary::known_values(&state.db, "devices", column, KNOWN_VALUES);
    let (areas, manufacturers, integrations) = (
        known("area_id").await?,
        known("manufacturer").await?,
        known("integration").await?,
    );
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
    let write = ctx.may(Permission::RegistryWrite);
    let mut table = Table {
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
            FilterField::text("q", "Search", &query.q),
            FilterField::text("area_id", "Area", &query.area_id).suggest(areas),
            FilterField::text("manufacturer", "Manufacturer", &query.manufacturer)
                .suggest(manufacturers),
            FilterField::text("integration", "Integration", &query.integration)
                .suggest(integrations),
            FilterField::select("sort", "Sort by", &Some(sort.as_str().to_string()), SORTS),
        ],
        action: "/registry/devices".into(),
        empty: "No devices match these filters.",
        ..Table::default()
    }
    .sortable(
        "/registry/devices",
        &kept,
        &[(0, "device_id"), (1, "name")],
        sort.as_str(),
    );
    if let Some(request) = &request {
        let at = PagerQuery {
            before: query.before.clone(),
            from: query.from,
        };
        table = table.paginate("/registry/devices", &paged, &at, request, &found);
    }
    if let Some(err) = &refused {
        table = table.refused(err);
    }
    let mut actions = Vec::new();
    if write {
        actions.push(("New device", "/registry/devices/new".to_string()));
        table = table.add_first("New device", "/registry/devices/new").bulk(
            BULK_DELETE,
            DeviceBulk::ACTIONS,
            found.items.iter().map(|d| d.device_id.clone()).collect(),
            here,
        );
    }
    ctx.render_status(
        table.status(),
        &ListPage {
            layout: ctx.layout("Devices"),
            table,
            actions,
            note,
        },
    )
}

/// The list's address, and where its bulk deletion posts.
const LIST: &str = "/registry/devices";
const BULK_DELETE: &str = "/registry/devices/bulk-delete";

/// The device list's bulk deletion: each device goes with its entities, all in one
/// transaction (one unknown id refuses them all).
pub struct DeviceBulk;

impl BulkList for DeviceBulk {
    const LIST: &'static str = LIST;
    const ROUTE: &'static str = BULK_DELETE;
    const NOUN: (&'static str, &'static str) = ("device", "devices");
    const ACTIONS: &'static [BulkAction] = &[BulkAction::Delete];

    fn what(_: BulkAction) -> &'static str {
        "Each device is deleted with its entities, and webhooks hear of each deletion."
    }

    async fn describe(
        state: &AppState,
        _: &Acting,
        _: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error> {
        let mut names = Vec::with_capacity(ids.len());
        for id in ids {
            let device = devices::find(&state.db, id).await?;
            names.push(format!("{} ({})", device.name, device.device_id));
        }
        let entities: i64 = entities::counts_by_device(&state.db, ids)
            .await?
            .iter()
            .map(|(_, n)| n)
            .sum();
        let consequences = (entities > 0)
            .then(|| {
                format!(
                    "{} go with them.",
                    count_of(entities.max(0) as u64, "entity", "entities")
                )
            })
            .into_iter()
            .collect();
        Ok(Described {
            names,
            consequences,
        })
    }

    async fn apply(
        state: &AppState,
        acting: &Acting,
        _: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error> {
        let deleted = devices::delete_many(&state.db, &acting.actor(), acting.ip(), ids).await?;
        Ok(deleted as u64)
    }
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
    /// A `datetime-local` value in UTC (RFC 3339 is read too); empty for never.
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
            Field::new("last_seen", "Last seen (UTC)", self.last_seen_kind())
                .value(&self.last_seen)
                .help("In UTC, not your local time; empty for never."),
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
            last_seen: match local_utc(&self.last_seen) {
                Some(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                None => opt(&self.last_seen),
            },
        }
    }

    /// The date-and-time picker, unless the value is one it cannot show (a typo), which then
    /// stays in a text box as typed.
    fn last_seen_kind(&self) -> &'static str {
        if self.last_seen.trim().is_empty() || local_utc(&self.last_seen).is_some() {
            "datetime-local"
        } else {
            "text"
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
    r.page(Method::GET, LIST, read, list)
        .page(Method::POST, BULK_DELETE, write, bulk::handle::<DeviceBulk>)
        .page(Method::GET, "/registry/devices/new", write, new_page)
        .page(Method::POST, "/registry/devices/new", write, create);
}
