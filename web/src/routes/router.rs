//! Route declaration: every route states its method, path and [`Access`] exactly once.
//!
//! The same list installs the routes (each wrapped by [`enforce`] with its rule) and is the
//! catalog the authorization-matrix test walks, so a new route cannot escape either.

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, Route, web};

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
