//! Route declaration: every route states its method, path and [`Access`] exactly once.
//!
//! The same list installs the routes (each wrapped by [`enforce`] with its rule) and is the
//! catalog the authorization-matrix test walks, so a new route cannot escape either.

use std::sync::OnceLock;

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, HttpMessage, HttpRequest, Responder, Route, web};

use crate::auth::{Access, Kind, Rule, enforce};

/// One declared route, as the catalog lists it.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
}

/// Collects routes with their rules.
#[derive(Default)]
pub struct Router {
    entries: Vec<(RouteSpec, Route)>,
}

impl Router {
    /// Declares an HTML page route.
    pub fn page<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(
            method,
            path,
            Rule {
                access,
                kind: Kind::Page,
            },
            handler,
        )
    }

    /// Declares a JSON route.
    pub fn api<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(
            method,
            path,
            Rule {
                access,
                kind: Kind::Api,
            },
            handler,
        )
    }

    /// Declares an OAuth protocol endpoint: public, authenticating clients itself, answering
    /// in RFC 6749's format.
    pub fn protocol<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(
            method,
            path,
            Rule {
                access: Access::Public,
                kind: Kind::Protocol,
            },
            handler,
        )
    }

    fn add<F, Args>(
        &mut self,
        method: Method,
        path: &'static str,
        rule: Rule,
        handler: F,
    ) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::method(method.clone()).to(handler).wrap(from_fn(
            move |req: ServiceRequest, next: Next<BoxBody>| enforce(rule, req, next),
        ));
        self.entries.push((RouteSpec { method, path, rule }, route));
        self
    }

    /// The declared routes.
    pub fn specs(&self) -> Vec<RouteSpec> {
        self.entries.iter().map(|(spec, _)| spec.clone()).collect()
    }

    /// Registers every route, one resource per path (so a wrong method is a `405`), in
    /// scopes by leading path segments (see [`install_level`]).
    pub fn install(self, cfg: &mut web::ServiceConfig) {
        let mut resources: Vec<Resource> = Vec::new();
        for (spec, route) in self.entries {
            match resources.iter_mut().find(|(path, _)| *path == spec.path) {
                Some((_, routes)) => routes.push(route),
                None => resources.push((spec.path, vec![route])),
            }
        }
        install_level(cfg, resources);
    }
}

/// A path below the current scope and the routes declared for it.
type Resource = (&'static str, Vec<Route>);

/// Registers `resources` at one level.
///
/// actix-web tries a level's resources one after another, running a regular expression for
/// each path with a parameter, so one flat list of every route made each request pay for most
/// of them. Routes that share a leading segment go into a scope of it instead (a scope's
/// prefix is a plain comparison), level by level. Grouping stops at a level where some route's
/// next segment is a parameter: that route could also match a scope's paths, and a scope,
/// once entered, answers `404` rather than trying the routes registered after it.
fn install_level(cfg: &mut web::ServiceConfig, resources: Vec<Resource>) {
    let groupable = resources.len() > 1
        && resources
            .iter()
            .all(|(path, _)| first_segment(path).is_none_or(|s| !s.contains('{')));
    if !groupable {
        for (path, routes) in resources {
            register(cfg, path, routes);
        }
        return;
    }
    let mut groups: Vec<(Option<&'static str>, Vec<Resource>)> = Vec::new();
    for (path, routes) in resources {
        let key = first_segment(path);
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, members)) => members.push((path, routes)),
            None => groups.push((key, vec![(path, routes)])),
        }
    }
    for (key, members) in groups {
        match key {
            Some(segment) if members.len() > 1 => {
                let prefix = &members[0].0[..1 + segment.len()];
                let inner: Vec<Resource> = members
                    .into_iter()
                    .map(|(path, routes)| (&path[prefix.len()..], routes))
                    .collect();
                cfg.service(web::scope(prefix).configure(|scope| install_level(scope, inner)));
            }
            _ => {
                for (path, routes) in members {
                    register(cfg, path, routes);
                }
            }
        }
    }
}

/// The first segment of `path` (`"api"` of `"/api/devices"`); `None` for `""` and `"/"`.
fn first_segment(path: &'static str) -> Option<&'static str> {
    path.strip_prefix('/')?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

/// One resource for a path and all its routes.
fn register(cfg: &mut web::ServiceConfig, path: &'static str, routes: Vec<Route>) {
    let resource = routes
        .into_iter()
        .fold(web::resource(path), |resource, route| resource.route(route));
    cfg.service(resource);
}

/// How an error on `req` is rendered: the declared [`Kind`] of the route it is for.
///
/// The router is the one source of truth, so a page answers the HTML error page and a JSON
/// route the JSON shape, whoever raised the error. A request that reached its route carries
/// the kind [`enforce`] put in its extensions. One the framework refused before that (a method
/// the path does not declare) takes the kind of the path's declared routes; one that matches
/// no route at all (`404`) takes the kind of the declared routes sharing the most leading
/// segments with its path, and is a page when those disagree or none shares any.
pub fn kind_of(req: &HttpRequest) -> Kind {
    if let Some(kind) = req.extensions().get::<Kind>() {
        return *kind;
    }
    let catalog = kinds();
    if let Some(pattern) = req.match_pattern()
        && let Some((_, kind)) = catalog.iter().find(|(path, _)| *path == pattern)
    {
        return *kind;
    }
    kind_by_prefix(catalog, req.path())
}

/// Every declared path with its kind, read once from the router (the catalog cannot change
/// while the process runs).
fn kinds() -> &'static [(&'static str, Kind)] {
    static KINDS: OnceLock<Vec<(&'static str, Kind)>> = OnceLock::new();
    KINDS.get_or_init(|| {
        crate::routes::catalog()
            .into_iter()
            .map(|spec| (spec.path, spec.rule.kind))
            .collect()
    })
}

/// The kind of the declared routes whose paths share the most leading segments with `path`
/// (a declared `{parameter}` segment matches any segment): [`Kind::Page`] unless every one of
/// them answers JSON, and when no route shares even the first segment.
fn kind_by_prefix(catalog: &[(&'static str, Kind)], path: &str) -> Kind {
    let shared = |declared: &str| {
        declared
            .split('/')
            .zip(path.split('/'))
            .skip(1) // both begin with "/": the empty segment before it is no evidence
            .take_while(|(d, p)| !p.is_empty() && (d == p || d.starts_with('{')))
            .count()
    };
    let best = catalog.iter().map(|(d, _)| shared(d)).max().unwrap_or(0);
    if best == 0 {
        return Kind::Page;
    }
    let mut nearest = catalog.iter().filter(|(d, _)| shared(d) == best);
    if nearest.all(|(_, kind)| *kind != Kind::Page) {
        Kind::Api
    } else {
        Kind::Page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(path: &str) -> Kind {
        kind_by_prefix(kinds(), path)
    }

    #[test]
    fn an_unknown_path_under_the_api_answers_json() {
        assert_eq!(kind("/api/no-such-thing"), Kind::Api);
        assert_eq!(kind("/api/devices/x/y/z"), Kind::Api);
        assert_eq!(kind("/internal/nothing"), Kind::Api);
        assert_eq!(kind("/oauth/token/extra"), Kind::Api);
    }

    #[test]
    fn an_unknown_path_near_pages_or_nothing_is_a_page() {
        assert_eq!(kind("/no/such/page"), Kind::Page);
        assert_eq!(kind("/registry/devices/x/y/z"), Kind::Page);
        assert_eq!(kind("/oauth/clients/x/y/z"), Kind::Page);
        // `/oauth/` holds both console pages and protocol endpoints: a person is the likelier
        // visitor of a mistyped address there.
        assert_eq!(kind("/oauth/nothing"), Kind::Page);
        assert_eq!(kind("/"), Kind::Page);
    }
}
