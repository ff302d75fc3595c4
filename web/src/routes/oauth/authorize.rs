//! `GET /oauth/authorize` and `POST /oauth/authorize`: the authorization-code grant's
//! front channel — client and redirect check, login round trip, consent, redirect.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::oauth::authorize::{self, AuthorizeParams, Request};

use super::consent::{ConsentPage, described};
use crate::auth::{Access, Caller};
use crate::error::PageError;
use crate::pages::PageContext;
use crate::routes::forms::PageForm;
use crate::routes::router::Router;
use crate::state::AppState;

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Checks the client and redirect URI (error page) and then the rest (error redirect).
async fn checked(
    state: &AppState,
    params: &AuthorizeParams,
) -> Result<Result<Request, HttpResponse>, PageError> {
    let target = match authorize::target(&state.db, params).await {
        Ok(t) => t,
        Err(service::Error::OAuth(e)) => {
            return Err(PageError::new(StatusCode::BAD_REQUEST, e.description));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(authorize::check(target, params).map_err(|location| found(&location)))
}

fn hidden_fields(params: &AuthorizeParams) -> Vec<(String, String)> {
    let all = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
    ];
    all.into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect()
}

/// The origin of a URI (`scheme://host:port`), for the consent page's `form-action`.
fn origin(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    Some(url.origin().ascii_serialization())
}

async fn show(
    ctx: PageContext,
    req: HttpRequest,
    caller: Option<Caller>,
    state: web::Data<AppState>,
    query: web::Query<AuthorizeParams>,
) -> Result<HttpResponse, PageError> {
    let request = match checked(&state, &query).await? {
        Ok(r) => r,
        Err(redirect) => return Ok(redirect),
    };
    let Some(user) = caller.and_then(|c| c.user) else {
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let login = format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        );
        // Like every other page: `303` to the login page, which comes back here.
        return Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, login))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    };
    if let Err(e) = authorize::effective_scope(&request, &user) {
        return Ok(found(&authorize::error_redirect(&request.target, &e)));
    }
    if request.target.client.spec.skip_consent {
        return Ok(found(
            &authorize::approve(&state.db, &request, &user).await?,
        ));
    }
    let scope = authorize::effective_scope(&request, &user).unwrap_or_default();
    let mut res = ctx.render(&ConsentPage {
        layout: ctx.layout("Allow access?"),
        client_name: request.target.client.spec.name.clone(),
        scopes: described(scope),
        action: "/oauth/authorize",
        hidden: hidden_fields(&query),
        user_code: None,
    })?;
    // The decision's answer redirects to the client: the page's form-action must allow it.
    if let Some(origin) = origin(&request.target.redirect_uri) {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_str(&format!(
                "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self' {origin}"
            ))
            .unwrap_or_else(|_| header::HeaderValue::from_static("default-src 'self'")),
        );
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The consent form's answer: the authorization request again, and the decision.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecideForm {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    /// `approve` or `deny`.
    decision: String,
}

impl DecideForm {
    /// The request's parameters as the query string would give them (empty is absent).
    fn params(&self) -> AuthorizeParams {
        let given = |v: &String| Some(v.clone()).filter(|v| !v.is_empty());
        AuthorizeParams {
            response_type: given(&self.response_type),
            client_id: given(&self.client_id),
            redirect_uri: given(&self.redirect_uri),
            scope: given(&self.scope),
            state: given(&self.state),
            code_challenge: given(&self.code_challenge),
            code_challenge_method: given(&self.code_challenge_method),
        }
    }
}

async fn decide(
    caller: Caller,
    state: web::Data<AppState>,
    PageForm(form): PageForm<DecideForm>,
) -> Result<HttpResponse, PageError> {
    let params = form.params();
    let request = match checked(&state, &params).await? {
        Ok(r) => r,
        Err(redirect) => return Ok(redirect),
    };
    let user = caller.user.ok_or_else(|| {
        PageError::new(StatusCode::FORBIDDEN, "Only a signed-in user can answer.")
    })?;
    let location = match form.decision.as_str() {
        "approve" => authorize::approve(&state.db, &request, &user).await?,
        "deny" => authorize::deny(&state.db, &request, &user).await?,
        _ => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "The decision is either approve or deny.",
            ));
        }
    };
    Ok(found(&location))
}

/// Declares the authorization endpoint. `GET` is public because it must check the client
/// before sending anyone to the login page.
pub fn routes(r: &mut Router) {
    r.page(Method::GET, "/oauth/authorize", Access::Public, show)
        .page(Method::POST, "/oauth/authorize", Access::Signed, decide);
}
