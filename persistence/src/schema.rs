// Written to match migrations/{postgres,sqlite}: ids are Text, times are
// Timestamp (naive UTC), so one schema serves both backends.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        password_hash -> Nullable<Text>,
        email_verified -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    roles (id) {
        id -> Text,
        account_id -> Nullable<Text>,
        key -> Text,
        name -> Text,
        built_in -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (id) {
        id -> Text,
        account_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> Text,
        membership_id -> Text,
        role_id -> Text,
        group_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(memberships -> accounts (account_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(role_assignments -> memberships (membership_id));
diesel::joinable!(role_assignments -> roles (role_id));

diesel::allow_tables_to_appear_in_same_query!(users, refresh_tokens, accounts, roles, memberships, role_assignments,);
