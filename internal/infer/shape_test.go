package infer

import "testing"

func TestNumberShape(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"1299", shapeInteger}, {"1,299", shapeInteger}, {"1.299.000", shapeInteger}, {"£1,299", shapeInteger}, {"-20", shapeInteger},
		{"0.001", shapeFraction}, {"12,50 €", shapeFraction}, {"1.234,50", shapeFraction}, {"£1,299.00", shapeFraction}, {"4.5", shapeFraction}, {"1234.567", shapeFraction},
		{"203.0.113.1", shapeNone}, {"1.2.3", shapeNone}, {"1,2,3", shapeNone}, {"12:30", shapeNone}, {"2024-05-01", shapeNone}, {"abc", shapeNone}, {"1..2", shapeNone},
	}
	for _, tt := range tests {
		if got := numberShape(tt.in); got != tt.want {
			t.Errorf("numberShape(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
