# The index's events on an EventBridge bus of the caller's (`event_bus_name`),
# off by default: the reindexer puts one event per change it makes visible (a
# file published, yanked, unyanked, removed), the command line's claim and
# release one per name they change. docs/events.md is the schema.
#
#   - the reindexer reads the bus from EVENT_BUS (its ARN, main.tf's
#     reindex_environment) and may put events on that bus only
#     (events:PutEvents on the bus ARN, only from the reindexer);
#   - the bucket's tag `serverless-pypi:event-bus` names the bus, so that the
#     command line sends its events where the module sends the reindexer's.

locals {
  event_bus_name = var.event_bus_name == null ? "" : trimspace(var.event_bus_name)
  events         = local.event_bus_name != ""
  # A name is a bus of the module's account and region; an ARN is used as given.
  event_bus_arn = (
    !local.events ? null :
    startswith(local.event_bus_name, "arn:") ? local.event_bus_name :
    "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${local.event_bus_name}"
  )

  event_bus_tags = local.events ? { "serverless-pypi:event-bus" = local.event_bus_arn } : {}
  event_bus_statements = local.events ? [
    {
      Sid       = "ReindexPutEvents"
      Effect    = "Allow"
      Action    = "events:PutEvents"
      Resource  = local.event_bus_arn
      Condition = local.only_reindex
    },
  ] : []
}
