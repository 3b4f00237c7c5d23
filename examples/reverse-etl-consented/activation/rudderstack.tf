# Reverse ETL: the dbt model audience_members, uploaded to Meta as a matching audience.
resource "rudderstack_retl_source_table" "audience_members" {
  name                   = "audience-members"
  source_definition_name = "snowflake"
  account_id             = "acc-1234"

  config {
    primary_key = "customer_id"
    schema      = "analytics"
    table       = "audience_members"
  }
}

resource "rudderstack_destination_facebook_conversions" "meta_audience" {
  name = "meta-audience"

  config {
    dataset_id   = "1234567898765"
    access_token = "my-access-token"
  }
}

resource "rudderstack_retl_connection" "audience_to_meta" {
  source_id      = rudderstack_retl_source_table.audience_members.id
  destination_id = rudderstack_destination_facebook_conversions.meta_audience.id
  enabled        = true
  sync_behaviour = "upsert"

  schedule {
    type          = "basic"
    every_minutes = 60
  }

  event {
    type = "identify"
  }

  identifiers {
    from = "phone"
    to   = "user_data.phone"
  }

  mappings {
    from = "email"
    to   = "user_data.email"
  }
}
