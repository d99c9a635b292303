// Package ui is gab's terminal interface on tview and tcell: the roster pane,
// the conversation view, the composer, the status line, dialogs and the event
// pump that feeds them.
//
// The tview goroutine owns every widget and model here. Text that came from
// the network is drawn cell by cell by our own widgets or passed through
// Sanitize; it is never handed to tview as markup.
package ui
