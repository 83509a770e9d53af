"""Names of CBS areas (municipalities, districts, neighbourhoods): the CBS list the operator
loads, and names a table's chair gives to codes the list lacks."""
