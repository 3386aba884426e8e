//! The permission check in-process: resolving a member's held roles to
//! effective permissions and testing one permission, as every guarded
//! request does.
//!
//!   cargo bench -p domain --bench authorization

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::catalogue::{CatalogueDefinition, PermissionDefinition, RoleDefinition};
use domain::{BuiltInRole, Catalogue, HeldRole, Permission, RoleKind, check_grant};

fn catalogue() -> Catalogue {
    let permissions: Vec<PermissionDefinition> =
        (0..40).map(|i| PermissionDefinition { key: format!("app{i}:use"), description: String::new() }).collect();
    let roles = vec![RoleDefinition {
        key: "developer".into(),
        name: "Developer".into(),
        description: String::new(),
        permissions: permissions.iter().take(20).map(|p| p.key.clone()).collect(),
    }];
    Catalogue::new(CatalogueDefinition { permissions, roles }).expect("a valid catalogue")
}

fn checks(c: &mut Criterion) {
    let catalogue = catalogue();
    let group = uuid::Uuid::from_u128(7);
    let developer = vec![HeldRole { key: "developer".into(), kind: RoleKind::Template, group: None }];
    let mixed = vec![
        HeldRole { key: "developer".into(), kind: RoleKind::Template, group: None },
        HeldRole {
            key: "administrator".into(),
            kind: RoleKind::BuiltIn(BuiltInRole::Administrator),
            group: Some(group),
        },
        HeldRole {
            key: "custom".into(),
            kind: RoleKind::Custom(["app1:use", "members:read", "app39:use"].into_iter().collect()),
            group: None,
        },
    ];
    c.bench_function("check: template role, one permission", |b| {
        b.iter(|| catalogue.effective(black_box(&developer), None).contains_key(black_box("app3:use")))
    });
    c.bench_function("check: three roles, group scope", |b| {
        b.iter(|| catalogue.effective(black_box(&mixed), Some(group)).contains(black_box(Permission::MembersManage)))
    });
    c.bench_function("holds: template role, one permission", |b| {
        b.iter(|| catalogue.holds(black_box(&developer), None, black_box("app3:use")))
    });
    c.bench_function("holds: three roles, group scope", |b| {
        b.iter(|| catalogue.holds(black_box(&mixed), Some(group), black_box("members:manage")))
    });
    let admin = catalogue.built_in(BuiltInRole::Administrator);
    let owner = catalogue.built_in(BuiltInRole::Owner);
    c.bench_function("no-escalation: may administrator grant owner", |b| {
        b.iter(|| check_grant(black_box(&admin), black_box(&owner)))
    });
}

criterion_group!(benches, checks);
criterion_main!(benches);
