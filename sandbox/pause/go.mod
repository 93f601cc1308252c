module railiance.sandbox/pause

go 1.22
