module fanoutreader

go 1.21
