"""Every read publication serves, one module per concept (`disclosures`, `assignment_rules`,
`providers`): SQL over the read models of projections/ to the typed models the API returns."""
