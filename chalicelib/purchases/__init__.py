"""Purchase -> access: Gumroad pings and sales, the catalogue's courses, records, fulfilment, queue and worker."""
