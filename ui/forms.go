package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Forms show where the focus is in every theme, NO_COLOR included: tview's
// own form styles are colours only, and with the terminal's default
// colours (gab's default theme) a focused button looked like any other and
// an input field like empty space. Here an input field is underlined, and
// the button or field with focus is drawn in the selection style (reverse
// video, or the theme's selected colour) and bold.

// buttonStyle is an unfocused button: underlined text.
func (t Theme) buttonStyle() tcell.Style {
	return tcell.StyleDefault.Foreground(t.Text).Background(t.Background).Underline(true)
}

// focusStyle is the button or field that has focus.
func (t Theme) focusStyle() tcell.Style {
	return t.selection(tcell.StyleDefault.Foreground(t.Text).Background(t.Background)).Bold(true)
}

// fieldStyle is an input field without focus: underlined, so an empty one
// still shows where it is.
func (t Theme) fieldStyle() tcell.Style {
	return tcell.StyleDefault.Foreground(t.Text).Background(t.Background).Underline(true)
}

// newForm is a tview.Form whose buttons show focus. Fields go in with
// addInput, addPassword and addDropDown.
func newForm() *tview.Form {
	f := tview.NewForm()
	f.SetButtonStyle(theme.buttonStyle()).SetButtonActivatedStyle(theme.focusStyle())
	f.SetButtonDisabledStyle(theme.buttonStyle().Foreground(theme.Dim))
	f.SetLabelColor(theme.Text)
	return f
}

// addButton adds a button whose label has a space either side, so the
// focused one is a block, not just reversed letters.
func addButton(f *tview.Form, label string, selected func()) {
	f.AddButton(" "+label+" ", selected)
}

// focusInput is a form's input field that shows whether it has focus. The
// form resets a field's style on every draw from colours alone, and tview
// leaves the cells of an empty field unpainted when its background is the
// terminal's: this draws the whole field in the field or focus style.
type focusInput struct {
	*tview.InputField
	labelWidth int
}

// SetFormAttributes is called by the form before each draw.
func (i *focusInput) SetFormAttributes(labelWidth int, labelColor, bgColor, fieldTextColor, fieldBgColor tcell.Color) tview.FormItem {
	i.labelWidth = labelWidth
	i.InputField.SetFormAttributes(labelWidth, labelColor, bgColor, fieldTextColor, fieldBgColor)
	label := tcell.StyleDefault.Foreground(labelColor).Background(bgColor)
	if i.HasFocus() {
		label = label.Bold(true)
	}
	i.SetLabelStyle(label)
	return i
}

// Draw draws the field, then gives every cell of its input area the field's
// style.
func (i *focusInput) Draw(screen tcell.Screen) {
	style := theme.fieldStyle()
	if i.HasFocus() {
		style = theme.focusStyle()
	}
	i.SetFieldStyle(style)
	i.InputField.Draw(screen)
	x, y, w, h := i.GetInnerRect()
	if h < 1 {
		return
	}
	lw := i.labelWidth
	if lw == 0 {
		lw = tview.TaggedStringWidth(i.GetLabel())
	}
	fw := i.GetFieldWidth()
	if fw == 0 || lw+fw > w {
		fw = w - lw
	}
	for col := x + lw; col < x+lw+fw; col++ {
		r, comb, _, cw := screen.GetContent(col, y)
		screen.SetContent(col, y, r, comb, style)
		if cw > 1 {
			col += cw - 1 // the wide character's second cell goes with it
		}
	}
}

// addInput adds an input field that shows focus; it returns the field.
func addInput(f *tview.Form, label, value string, width int, changed func(string)) *tview.InputField {
	in := tview.NewInputField().SetLabel(label).SetText(value).SetFieldWidth(width).SetChangedFunc(changed)
	f.AddFormItem(&focusInput{InputField: in})
	return in
}

// addPassword adds a masked input field that shows focus.
func addPassword(f *tview.Form, label string, width int, changed func(string)) *tview.InputField {
	in := tview.NewInputField().SetLabel(label).SetFieldWidth(width).SetMaskCharacter('*').SetChangedFunc(changed)
	f.AddFormItem(&focusInput{InputField: in})
	return in
}

// focusDropDown is a form's drop-down that shows whether it has focus.
type focusDropDown struct {
	*tview.DropDown
}

// SetFormAttributes is called by the form before each draw.
func (d focusDropDown) SetFormAttributes(labelWidth int, labelColor, bgColor, fieldTextColor, fieldBgColor tcell.Color) tview.FormItem {
	d.DropDown.SetFormAttributes(labelWidth, labelColor, bgColor, fieldTextColor, fieldBgColor)
	d.SetFieldStyle(theme.fieldStyle())
	d.SetFocusedStyle(theme.focusStyle())
	label := tcell.StyleDefault.Foreground(labelColor).Background(bgColor)
	if d.HasFocus() {
		label = label.Bold(true)
	}
	d.SetLabelStyle(label)
	return d
}

// addDropDown adds a drop-down that shows focus.
func addDropDown(f *tview.Form, label string, options []string, initial int, selected func(string, int)) {
	d := tview.NewDropDown().SetLabel(label).SetOptions(options, selected).SetCurrentOption(initial)
	d.SetListStyles(tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background), theme.focusStyle())
	f.AddFormItem(focusDropDown{d})
}
