module github.com/pcmoe/pcmoe/bindings/go

go 1.19
