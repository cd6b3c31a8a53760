package gormcache

import (
	"context"
	"database/sql"
	"errors"
	"hash/maphash"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/gormcache/gormcache/internal/deepcopy"
	"github.com/gormcache/gormcache/internal/replay"
)

// A hit is decoded exactly as a database read when its rows are replayed
// through database/sql and gorm.Scan. That decoding costs what it costs the
// database read, and for a result of many rows it is most of a hit. So the
// plugin also keeps, in process memory, what gorm.Scan made of an entry's
// value (before AfterFind hooks and preloads touch it), and a later hit on
// the same value gets a deep copy of it instead: GORM's own decoding, done
// once. A kept result is used only for a value with the same hash as the one
// it was decoded from, only for the same destination type, and only when the
// copy is exactly what a decoding would leave in the destination; otherwise
// the hit replays.

// decodedOverhead is the memory a kept result holds besides what
// decodedResult.weigh counts: otter's node and its slot in otter's hash
// table (measured with runtime.MemStats; see TestResultMemoryBoundsTheHeap).
const decodedOverhead = 96

// decodedKind is how a kept result is applied to a destination.
type decodedKind uint8

const (
	decodedSlice  decodedKind = iota // a slice of values (structs, scalars)
	decodedPtrs                      // a slice of pointers: elements are the pointees
	decodedStruct                    // a model struct: only the scanned fields
	decodedScalar                    // one of the types gorm.Scan scans directly
	decodedMaps                      // a *[]map[string]any, which gorm.Scan appends its rows to
)

// decodedResult is a result as gorm.Scan left it in a destination. It is
// never modified once made, and is read by many hits at once.
type decodedResult struct {
	hash     uint64 // maphash of the entry value it was decoded from
	size     int    // length of that value
	weight   uint32 // the memory it holds, see weigh
	destType reflect.Type
	// schema is the statement's model: gorm.Scan takes the types of a
	// map's values from its fields, so the same rows decode otherwise
	// under another model (Model(&User{}) and Table("users") alike).
	schema *schema.Schema
	kind   decodedKind
	rows   int64 // RowsAffected

	// value is the slice of elements (pointees for decodedPtrs, the rows
	// appended for decodedMaps) or the scalar; copier copies one element
	// or the scalar.
	value  reflect.Value
	copier *deepcopy.Copier
	// deep lists the elements that refer to memory of their own, which a
	// hit must deep-copy; the others are copied by assignment.
	deep []int

	// same is the first byte of a value a Peeker returned that hashed as
	// the result's value. The store never changes nor reuses that memory,
	// and this pointer keeps it from being freed, so a later value that
	// starts at the same address is that value: it is not hashed again.
	same atomic.Pointer[byte]

	fields []decodedField // decodedStruct
}

// decodedField is a field gorm.Scan set in a struct destination, or, for
// a NULL column (null), handed what it hands a field for NULL: what that
// leaves depends on the type of the field and on what it held (a *string
// becomes nil, an int or a *time.Time keeps its value).
type decodedField struct {
	field  *schema.Field
	value  reflect.Value
	copier *deepcopy.Copier
	null   bool
}

// decodedCache holds decoded results by key, bounded by weight.
type decodedCache struct {
	results *otter.Cache[string, *decodedResult]
	seed    maphash.Seed
	// stable is set when values come from a store.Peeker: decodedResult's
	// same may then vouch for them.
	stable bool
	// maxSize is the size of the largest value whose result is kept: an
	// eighth of the cache, so that one result cannot push out most others,
	// and a result too large to stay is not copied on every hit for
	// nothing.
	maxSize int
}

// newDecodedCache returns a cache of at most maxBytes, or nil for none.
// stable tells that the values it is given come from a store.Peeker.
func newDecodedCache(maxBytes int64, stable bool) (*decodedCache, error) {
	if maxBytes < 0 {
		return nil, nil
	}
	results, err := otter.New(&otter.Options[string, *decodedResult]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ string, d *decodedResult) uint32 { return d.weight },
		Executor:      runNow, // results are kept by first hits
	})
	if err != nil {
		return nil, err
	}
	return &decodedCache{results: results, seed: maphash.MakeSeed(), stable: stable, maxSize: int(min(maxBytes/8, 1<<30))}, nil
}

// runNow is the Executor of the cache of decoded results: it runs otter's
// upkeep in the writing call, for the reason the memory store does
// (store/memory): otter's default of a goroutine per write costs more than
// the upkeep.
func runNow(fn func()) { fn() }

// keep records what gorm.Scan left in db's destination after decoding value
// (whose rows are rs), for later hits on key. It keeps nothing when the
// statement failed or its destination cannot be copied exactly.
func (c *decodedCache) keep(db *gorm.DB, key string, value []byte, rs *replay.Rowset) {
	if c == nil || len(value) > c.maxSize || (db.Error != nil && !errors.Is(db.Error, gorm.ErrRecordNotFound)) {
		return
	}
	stmt := db.Statement
	if stmt.Dest == nil || len(stmt.ColumnMapping) > 0 {
		return
	}
	d := &decodedResult{
		size:     len(value),
		destType: reflect.TypeOf(stmt.Dest),
		schema:   stmt.Schema,
		rows:     db.RowsAffected,
	}
	ok := false
	switch rv := stmt.ReflectValue; {
	case isScalarDest(stmt.Dest):
		ok = d.keepScalar(reflect.ValueOf(stmt.Dest).Elem())
	case isMapsDest(stmt.Dest):
		// The rows gorm.Scan appended to what the slice held.
		if n := int64(rv.Len()); d.rows <= n {
			ok = d.keepSlice(rv.Slice(int(n-d.rows), int(n)))
			d.kind = decodedMaps
		}
	case rv.Kind() == reflect.Slice && d.destType.Kind() == reflect.Pointer:
		ok = d.keepSlice(rv)
	case rv.Kind() == reflect.Struct && stmt.Schema != nil && rv.Type() == stmt.Schema.ModelType:
		ok = d.keepStruct(db, rv, rs)
	}
	if ok {
		// Hashed only now: a result that cannot be kept is tried again on
		// every hit that replays it.
		d.hash = maphash.Bytes(c.seed, value)
		d.weigh(key)
		c.results.Set(key, d)
	}
}

// weigh sets d.weight to the memory d holds, kept under key: itself, its
// key, and its values with everything they refer to (see
// deepcopy.HeapBytes), allocations rounded as the allocator rounds them.
func (d *decodedResult) weigh(key string) {
	n := decodedOverhead + deepcopy.AllocSize(int(unsafe.Sizeof(*d))) + deepcopy.AllocSize(len(key))
	switch d.kind {
	case decodedScalar:
		n += deepcopy.HeapBytes(d.value.Addr())
	case decodedSlice, decodedPtrs, decodedMaps:
		n += deepcopy.HeapBytes(d.value) + deepcopy.AllocSize(8*cap(d.deep))
	case decodedStruct:
		n += deepcopy.AllocSize(cap(d.fields) * int(unsafe.Sizeof(decodedField{})))
		for _, f := range d.fields {
			if !f.null {
				n += deepcopy.HeapBytes(f.value.Addr())
			}
		}
	}
	d.weight = uint32(min(n, math.MaxUint32))
}

func (d *decodedResult) keepScalar(v reflect.Value) bool {
	d.kind, d.copier = decodedScalar, deepcopy.For(v.Type())
	d.value = reflect.New(v.Type()).Elem()
	d.value.Set(v)
	return true
}

func (d *decodedResult) keepSlice(rv reflect.Value) bool {
	elem := rv.Type().Elem()
	d.kind = decodedSlice
	if elem.Kind() == reflect.Pointer {
		d.kind, elem = decodedPtrs, elem.Elem()
	}
	if d.copier = deepcopy.For(elem); d.copier == nil {
		return false
	}
	n := rv.Len()
	d.value = reflect.MakeSlice(reflect.SliceOf(elem), n, n)
	if d.kind == decodedSlice {
		reflect.Copy(d.value, rv)
		if d.copier.Flat() {
			return true
		}
	}
	for i := range n {
		src := rv.Index(i)
		if d.kind == decodedPtrs {
			if src.IsNil() {
				return false
			}
			src = src.Elem()
		}
		if !d.copier.Shares(src) {
			if d.kind == decodedPtrs {
				d.value.Index(i).Set(src)
			}
			continue
		}
		d.deep = append(d.deep, i)
		if !d.copier.Copy(d.value.Index(i), src) {
			return false
		}
	}
	return true
}

// keepStruct keeps the fields gorm.Scan set in a model struct from the first
// row of rs: those its columns name. Results of joins, which set fields of
// related structs, and of duplicate column names are not kept.
func (d *decodedResult) keepStruct(db *gorm.DB, rv reflect.Value, rs *replay.Rowset) bool {
	d.kind = decodedStruct
	if d.rows == 0 {
		return true
	}
	s := db.Statement.Schema
	if len(rs.Columns) == 1 && s.ModelType.ConvertibleTo(timeType) {
		return false // gorm.Scan plucks into such a struct
	}
	row := rs.Row(0) // the one gorm.Scan scanned (d.rows > 0)
	seen := make(map[string]bool, len(rs.Columns))
	for i, col := range rs.Columns {
		if seen[col.Name] || strings.Contains(col.Name, "__") {
			return false
		}
		seen[col.Name] = true
		f := s.LookUpField(col.Name)
		if f == nil || !f.Readable {
			continue
		}
		if row[i] == nil {
			if !nullSettable(f) {
				return false
			}
			d.fields = append(d.fields, decodedField{field: f, null: true})
			continue
		}
		fc := deepcopy.For(f.FieldType)
		if fc == nil {
			return false
		}
		v := reflect.New(f.FieldType).Elem()
		if !fc.Copy(v, f.ReflectValueOf(db.Statement.Context, rv)) {
			return false
		}
		d.fields = append(d.fields, decodedField{field: f, value: v, copier: fc})
	}
	return true
}

// use answers db from the result kept for key if it was decoded from value,
// and reports whether it did.
func (c *decodedCache) use(db *gorm.DB, key string, value []byte) bool {
	if c == nil {
		return false
	}
	// A statement that maps columns to other fields (the generics API's
	// MapColumns) is decoded otherwise than the one whose result was kept.
	d, ok := c.results.GetIfPresent(key)
	if !ok || d.size != len(value) || len(value) == 0 || d.destType != reflect.TypeOf(db.Statement.Dest) ||
		d.schema != db.Statement.Schema || len(db.Statement.ColumnMapping) > 0 {
		return false
	}
	if first := &value[0]; d.same.Load() != first {
		if d.hash != maphash.Bytes(c.seed, value) {
			return false
		}
		if c.stable {
			d.same.Store(first)
		}
	}
	stmt := db.Statement
	switch d.kind {
	case decodedScalar:
		if d.rows > 0 {
			reflect.ValueOf(stmt.Dest).Elem().Set(d.value)
		}
	case decodedSlice, decodedPtrs:
		d.applySlice(stmt.ReflectValue)
	case decodedMaps:
		d.appendMaps(stmt.ReflectValue)
	case decodedStruct:
		d.applyStruct(db)
	}
	db.RowsAffected = d.rows
	if stmt.Result != nil {
		stmt.Result.RowsAffected = d.rows
	}
	if d.rows == 0 && stmt.RaiseErrorOnNotFound {
		db.AddError(gorm.ErrRecordNotFound)
	}
	return true
}

// applySlice sets rv to copies of the kept elements, reusing its array when
// it has room for them, as gorm.Scan does. gorm.Scan appends the rows to an
// array too small for them until it is full: the first rows reach it too.
func (d *decodedResult) applySlice(rv reflect.Value) {
	n, c := d.value.Len(), rv.Cap()
	switch {
	case c == 0 || c < n:
		if c > 0 {
			d.fill(rv.Slice(0, c))
		}
		rv.Set(reflect.MakeSlice(rv.Type(), n, max(n, 20)))
	default:
		rv.SetLen(n)
	}
	d.fill(rv)
}

// fill sets the elements of s, at most as many as are kept, to copies of
// the first kept ones.
func (d *decodedResult) fill(s reflect.Value) {
	n := s.Len()
	elems := s
	if d.kind == decodedPtrs {
		elems = reflect.MakeSlice(d.value.Type(), n, n)
	}
	reflect.Copy(elems, d.value)
	for _, i := range d.deep {
		if i >= n {
			break
		}
		d.copier.Copy(elems.Index(i), d.value.Index(i))
	}
	if d.kind == decodedPtrs {
		for i := range n {
			s.Index(i).Set(elems.Index(i).Addr())
		}
	}
}

// appendMaps appends copies of the kept rows to rv, as gorm.Scan appends
// the rows it reads to a []map[string]any: what the slice held stays, and
// a nil slice no row comes to stays nil.
func (d *decodedResult) appendMaps(rv reflect.Value) {
	n := d.value.Len()
	if n == 0 {
		return
	}
	start := rv.Len()
	rv.Grow(n)
	rv.SetLen(start + n)
	for i := range n {
		d.copier.Copy(rv.Index(start+i), d.value.Index(i))
	}
}

// applyStruct sets the kept fields of the struct destination. gorm.Scan
// scans each field into a value of its own and then assigns it, so what it
// leaves in a field never depends on what the field held, but for a NULL:
// that is handed to the field as gorm.Scan hands it.
func (d *decodedResult) applyStruct(db *gorm.DB) {
	ctx, rv := db.Statement.Context, db.Statement.ReflectValue
	for _, f := range d.fields {
		if f.null {
			setNull(ctx, f.field, rv)
			continue
		}
		f.copier.Copy(f.field.ReflectValueOf(ctx, rv), f.value)
	}
}

// nullSettable reports whether setNull can hand f a NULL as gorm.Scan does:
// when the values gorm.Scan scans f into (its NewValuePool's) are pointers
// to pointers, which database/sql sets to nil for a NULL, or Scanners.
func nullSettable(f *schema.Field) bool {
	if f.NewValuePool == nil || f.Set == nil {
		return false
	}
	v := f.NewValuePool.Get()
	defer f.NewValuePool.Put(v)
	if _, ok := v.(sql.Scanner); ok {
		return true
	}
	t := reflect.TypeOf(v)
	return t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Pointer
}

// setNull hands f of the struct rv a NULL column as gorm.Scan does: it
// scans NULL into a value of f's NewValuePool (see nullSettable) and sets
// f from it.
func setNull(ctx context.Context, f *schema.Field, rv reflect.Value) {
	v := f.NewValuePool.Get()
	defer f.NewValuePool.Put(v)
	if s, ok := v.(sql.Scanner); ok {
		if s.Scan(nil) != nil {
			return
		}
	} else {
		reflect.ValueOf(v).Elem().SetZero()
	}
	_ = f.Set(ctx, rv, v)
}

// isMapsDest reports whether dest is the one slice gorm.Scan appends its
// rows to rather than replacing what it holds.
func isMapsDest(dest any) bool {
	_, ok := dest.(*[]map[string]any)
	return ok
}

// isScalarDest reports whether gorm.Scan scans rows straight into dest: the
// destinations it lists by type.
func isScalarDest(dest any) bool {
	switch dest.(type) {
	case *int, *int8, *int16, *int32, *int64,
		*uint, *uint8, *uint16, *uint32, *uint64, *uintptr,
		*float32, *float64,
		*bool, *string, *time.Time,
		*sql.NullInt32, *sql.NullInt64, *sql.NullFloat64,
		*sql.NullBool, *sql.NullString, *sql.NullTime:
		return true
	}
	return false
}
