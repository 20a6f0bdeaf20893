module github.com/newsdesk/newsdesk

go 1.26.8
