package watermark

import (
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestDetachedSharesNoMemory fills every field of an Image (by reflection,
// so a field added later is covered) with values cut from one buffer, and
// checks that Detached gives an equal image none of whose strings,
// slices or pointers reach into the original.
func TestDetachedSharesNoMemory(t *testing.T) {
	buf := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
	next := 0
	str := func() string {
		s := unsafe.String(&buf[next%30], 5)
		next++
		return s
	}
	var img Image
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(str())
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				v.Set(reflect.ValueOf(time.Unix(int64(next), 0).UTC()))
				next++
				return
			}
			for i := 0; i < v.NumField(); i++ {
				fill(v.Field(i))
			}
		case reflect.Slice:
			s := reflect.MakeSlice(v.Type(), 2, 2)
			for i := 0; i < 2; i++ {
				fill(s.Index(i))
			}
			v.Set(s)
		case reflect.Pointer:
			p := reflect.New(v.Type().Elem())
			fill(p.Elem())
			v.Set(p)
		default:
			t.Fatalf("field kind %s: teach the test (and Detached) about it", v.Kind())
		}
	}
	fill(reflect.ValueOf(&img).Elem())
	d := img.Detached()
	if !reflect.DeepEqual(d, img) {
		t.Fatalf("Detached changed the image:\n%+v\n%+v", d, img)
	}
	lo, hi := uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&buf[len(buf)-1]))
	var check func(path string, a, b reflect.Value)
	check = func(path string, a, b reflect.Value) {
		switch a.Kind() {
		case reflect.String:
			if p := uintptr(unsafe.Pointer(unsafe.StringData(a.String()))); p >= lo && p <= hi {
				t.Errorf("%s still points into the original memory", path)
			}
		case reflect.Struct:
			for i := 0; i < a.NumField(); i++ {
				if a.Type().Field(i).IsExported() {
					check(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
				}
			}
		case reflect.Slice:
			if a.Len() > 0 && a.Pointer() == b.Pointer() {
				t.Errorf("%s shares its array", path)
			}
			for i := 0; i < a.Len(); i++ {
				check(path+"[]", a.Index(i), b.Index(i))
			}
		case reflect.Pointer:
			if !a.IsNil() && a.Pointer() == b.Pointer() {
				t.Errorf("%s is the same pointer", path)
			}
			if !a.IsNil() {
				check(path+"*", a.Elem(), b.Elem())
			}
		}
	}
	check("Image", reflect.ValueOf(d), reflect.ValueOf(img))
}
