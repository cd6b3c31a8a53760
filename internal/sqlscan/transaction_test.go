package sqlscan

import "testing"

func TestTransaction(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want TxControl
	}{
		{"UPDATE t SET a = 1", TxControl{}},
		{"COMMIT", TxControl{Ends: true}},
		{"commit work", TxControl{Ends: true}},
		{"END", TxControl{Ends: true}},
		{"END TRANSACTION", TxControl{Ends: true}},
		{"ROLLBACK", TxControl{Ends: true}},
		{"ABORT", TxControl{Ends: true}},
		{"ROLLBACK TRANSACTION", TxControl{Ends: true}},
		{"ROLLBACK TO SAVEPOINT s", TxControl{}},
		{"ROLLBACK WORK TO s", TxControl{}},
		{"COMMIT PREPARED 'x'", TxControl{}},
		{"ROLLBACK PREPARED 'x'", TxControl{}},
		{"COMMIT AND CHAIN", TxControl{Ends: true, Open: true}},
		{"COMMIT AND NO CHAIN", TxControl{Ends: true}},
		{"BEGIN", TxControl{Begins: true, Open: true}},
		{"BEGIN IMMEDIATE TRANSACTION", TxControl{Begins: true, Open: true}},
		{"START TRANSACTION READ WRITE", TxControl{Begins: true, Open: true}},
		{"BEGIN NOT ATOMIC SELECT 1; END", TxControl{}},
		{"COMMIT; BEGIN NOT ATOMIC SELECT 1; END", TxControl{Ends: true}},
		{"UPDATE t SET a = 1; COMMIT", TxControl{Ends: true}},
		{"COMMIT; BEGIN; UPDATE t SET a = 1", TxControl{Ends: true, Begins: true, Open: true}},
		{"BEGIN; UPDATE t SET a = 1; COMMIT", TxControl{Ends: true, Begins: true}},
		{"SELECT 'COMMIT'", TxControl{}},
		{"DO $$BEGIN UPDATE t SET a = 1; END$$", TxControl{}},
	} {
		a := Analyze(tc.sql)
		if got := Transaction(&a); got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.sql, got, tc.want)
		}
	}
}
