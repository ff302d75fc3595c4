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

    /// Registers every route, one resource per path (so a wrong method is a `405`).
    pub fn install(self, cfg: &mut web::ServiceConfig) {
        let mut paths: Vec<&'static str> = Vec::new();
        for (spec, _) in &self.entries {
            if !paths.contains(&spec.path) {
                paths.push(spec.path);
            }
        }
        let mut entries: Vec<Option<(RouteSpec, Route)>> =
            self.entries.into_iter().map(Some).collect();
        for path in paths {
            let mut resource = web::resource(path);
            for slot in entries.iter_mut() {
                if let Some((_, route)) = slot.take_if(|(spec, _)| spec.path == path) {
                    resource = resource.route(route);
                }
            }
            cfg.service(resource);
        }
    }
}
