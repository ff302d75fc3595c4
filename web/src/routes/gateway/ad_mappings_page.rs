//! `/gateway/ad-mappings`: the mappings with their roles, mapping a group (to a role the
//! caller may grant), deleting one after confirmation, and the simulator.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use askama::Template;
use service::access::Permission;
use service::gateway::ad_mapping_admin::{self, AdMapping, AdMappingInput};
use service::gateway::ad_mappings::{self, GroupResolution};

use super::ad_mappings_api::simulated_groups;
use crate::auth::{Access, Acting};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{
    Cell, Choice, Field, FormView, Layout, ListRow, PageContext, PagerQuery, Row, Table, rows,
};
use crate::routes::form_input::when;
use crate::routes::forms::{ConfirmForm, PageForm, Refused, page_form};
use crate::routes::router::Router;
use crate::state::AppState;
use service::pagination::PageRequest;

/// The page's address.
pub const PAGE: &str = "/gateway/ad-mappings";

page_form! {
    /// The form mapping a group.
    pub struct AdMappingForm {
        pub ad_group: String,
        pub role_id: String,
    }
}

page_form! {
    /// The simulator's form: groups one per line.
    pub struct SimulateForm {
        pub groups: String,
    }
}

/// The list's forward cursor.
#[derive(Debug, serde::Deserialize)]
struct CursorQuery {
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "ad_mappings.html")]
struct AdMappingsPage {
    layout: Layout,
    table: Table,
    create: Option<FormView>,
    simulate: Option<FormView>,
    result: Option<GroupResolution>,
}

/// A mapping in the list: its group, its role linked to the role's page, and delete.
impl ListRow<bool> for AdMapping {
    fn row(&self, write: &bool) -> Row {
        let mut row = vec![
            Cell::short(&self.ad_group, 80),
            Cell::link(&self.role_name, format!("/admin/roles/{}", self.role_id)),
            Cell::time(when(self.created_at)),
        ];
        if *write {
            row.push(Cell::post_button(
                "Delete…",
                format!("{PAGE}/{}/delete", self.id),
            ));
        }
        row
    }
}

fn create_form(roles: &[service::access::roles::RoleSummary], sent: &AdMappingForm) -> FormView {
    let choices = roles
        .iter()
        .map(|r| Choice {
            value: r.id.to_string(),
            label: r.name.clone(),
            checked: r.id.to_string() == sent.role_id,
        })
        .collect();
    FormView::new(
        PAGE,
        "Map group",
        vec![
            Field::new(AdMappingForm::ad_group, "Group (name or DN)", "text").value(&sent.ad_group),
            Field::new(AdMappingForm::role_id, "Role", "select")
                .choices(choices)
                .help("Only roles granting nothing beyond what you hold are offered."),
        ],
    )
}

fn simulate_form(sent: &SimulateForm) -> FormView {
    FormView::new(
        format!("{PAGE}/simulate"),
        "Simulate",
        vec![
            Field::new(SimulateForm::groups, "Groups, one per line", "textarea")
                .value(&sent.groups),
        ],
    )
}

/// Renders the page; `create` and `simulate` carry what was sent (and its errors).
#[allow(clippy::too_many_arguments)]
async fn render(
    ctx: &PageContext,
    state: &AppState,
    acting: &Acting,
    status: StatusCode,
    (at, cursor): (&PagerQuery, Option<&str>),
    create: Option<FormView>,
    simulate: FormView,
    result: Option<GroupResolution>,
) -> Result<HttpResponse, PageError> {
    let write = ctx.may(Permission::GatewayWrite);
    let request = PageRequest::parse_both(Some(ctx.ui().page_size), cursor, at.before.as_deref())?;
    let found = ad_mapping_admin::list(&state.db, &request).await?;
    let mut columns = vec!["Group", "Role", "Created"];
    if write {
        columns.push("");
    }
    let table = Table {
        columns,
        rows: rows(&found.items, &write),
        action: PAGE.into(),
        empty: "No group is mapped: nobody can sign in through single sign-on yet.",
        ..Table::default()
    }
    .paginate(PAGE, &[], at, &request, &found);
    let create = match (write, create) {
        (false, _) => None,
        (true, Some(form)) => Some(form),
        (true, None) => {
            let roles = ad_mapping_admin::grantable_roles(&state.db, &acting.grantor()).await?;
            Some(create_form(&roles, &AdMappingForm::default()))
        }
    };
    ctx.render_status(
        status,
        &AdMappingsPage {
            layout: ctx.layout("AD group mappings"),
            table,
            create,
            simulate: Some(simulate),
            result,
        },
    )
}

async fn show(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    at: web::Query<PagerQuery>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, PageError> {
    let simulate = simulate_form(&SimulateForm::default());
    let at = (&*at, query.cursor.as_deref());
    render(
        &ctx,
        &state,
        &acting,
        StatusCode::OK,
        at,
        None,
        simulate,
        None,
    )
    .await
}

async fn create(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<AdMappingForm>,
) -> Result<HttpResponse, PageError> {
    let created = match form.role_id.trim().parse::<i64>() {
        Ok(role_id) => {
            match AdMappingInput::parse(&form.ad_group, role_id, AdMappingForm::ad_group) {
                Ok(input) => {
                    ad_mapping_admin::create(&state.db, &acting.grantor(), acting.ip(), input).await
                }
                Err(e) => Err(e),
            }
        }
        Err(_) => Err(service::Error::invalid(
            AdMappingForm::role_id,
            "choose a role",
        )),
    };
    match created {
        Ok(m) => Ok(ctx.redirect(
            PAGE,
            Flash::success(format!(
                "The group {} now gives the role {}.",
                m.ad_group, m.role_name
            )),
        )),
        Err(err) => {
            let refused = Refused::sort(err)?;
            let roles = ad_mapping_admin::grantable_roles(&state.db, &acting.grantor()).await?;
            let form_view = create_form(&roles, &form).with_error(&refused.error);
            let simulate = simulate_form(&SimulateForm::default());
            render(
                &ctx,
                &state,
                &acting,
                refused.status,
                (&PagerQuery::default(), None),
                Some(form_view),
                simulate,
                None,
            )
            .await
        }
    }
}

async fn simulate(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<SimulateForm>,
) -> Result<HttpResponse, PageError> {
    let groups: Vec<String> = form.groups.lines().map(str::to_string).collect();
    let resolved = match simulated_groups(groups, SimulateForm::groups) {
        Ok(groups) => ad_mappings::resolve(&state.db, &groups).await,
        Err(e) => Err(e),
    };
    match resolved {
        Ok(result) => {
            render(
                &ctx,
                &state,
                &acting,
                StatusCode::OK,
                (&PagerQuery::default(), None),
                None,
                simulate_form(&form),
                Some(result),
            )
            .await
        }
        Err(err) => {
            let refused = Refused::sort(err)?;
            let view = simulate_form(&form).with_error(&refused.error);
            render(
                &ctx,
                &state,
                &acting,
                refused.status,
                (&PagerQuery::default(), None),
                None,
                view,
                None,
            )
            .await
        }
    }
}

/// Deletes a mapping once confirmed; before that, asks, naming what the users lose.
async fn delete(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    id: web::Path<String>,
    PageForm(form): PageForm<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let m = ad_mapping_admin::get(&state.db, &id).await?;
    if !form.is_given() {
        return ctx.confirm(
            crate::pages::Confirmation::new(
                format!("Delete the mapping of {}?", m.ad_group),
                format!("{PAGE}/{id}/delete"),
                "Delete mapping",
                PAGE.to_string(),
            )
            .what(format!("The group {} stops giving the role {}.", m.ad_group, m.role_name))
            .consequence("Users who hold the role only through this group lose it at their next single sign-on."),
        );
    }
    ad_mapping_admin::delete(&state.db, &acting.grantor(), acting.ip(), &id).await?;
    Ok(ctx.redirect(
        PAGE,
        Flash::success(format!("The mapping of {} was deleted.", m.ad_group)),
    ))
}

/// Registers the AD group mappings page.
pub fn routes(r: &mut Router) {
    let read = Access::Permission(Permission::GatewayRead);
    let write = Access::Permission(Permission::GatewayWrite);
    r.page(Method::GET, PAGE, read, show)
        .page(Method::POST, PAGE, write, create)
        .page(
            Method::POST,
            "/gateway/ad-mappings/simulate",
            read,
            simulate,
        )
        .page(
            Method::POST,
            "/gateway/ad-mappings/{id}/delete",
            write,
            delete,
        );
}
