"""Usage metering: ingest data-plane reports, aggregate, enforce plan quotas."""
