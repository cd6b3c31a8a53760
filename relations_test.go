package gormcache_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gormcache/gormcache"
	"github.com/gormcache/gormcache/internal/freshness"
)

// The models of this file declare the relations package photos does not:
// a composite primary key and a has-many through a composite foreign key,
// polymorphic has-many, a many-to-many through a join table of the
// application's own (with a column of its own), a self-referencing
// many-to-many, and a has-many that references a column other than the
// primary key.

type Org struct {
	Region  string   `gorm:"primaryKey;size:16"`
	Code    string   `gorm:"primaryKey;size:16"`
	Name    string   `gorm:"size:64"`
	Members []Member `gorm:"foreignKey:OrgRegion,OrgCode;references:Region,Code"`
}

type Member struct {
	ID        uint
	OrgRegion string    `gorm:"size:16"`
	OrgCode   string    `gorm:"size:16"`
	Email     string    `gorm:"uniqueIndex;size:64"`
	Comments  []Comment `gorm:"polymorphic:Owner"`
	Groups    []Group   `gorm:"many2many:memberships"`
	Friends   []*Member `gorm:"many2many:friendships"`
	Badges    []Badge   `gorm:"foreignKey:MemberEmail;references:Email;constraint:OnUpdate:CASCADE"`
}

type Group struct {
	ID       uint
	Name     string    `gorm:"size:64"`
	Comments []Comment `gorm:"polymorphic:Owner"`
}

// Membership is the join table of Member.Groups, with a role.
type Membership struct {
	MemberID uint   `gorm:"primaryKey"`
	GroupID  uint   `gorm:"primaryKey"`
	Role     string `gorm:"size:16"`
}

type Comment struct {
	ID        uint
	OwnerID   uint
	OwnerType string `gorm:"size:16"`
	Body      string `gorm:"size:64"`
}

type Badge struct {
	ID          uint
	MemberEmail string `gorm:"size:64"`
	Label       string `gorm:"size:64"`
}

// newRelationsEnv opens a database with the models above and seeds two
// orgs of region "eu" (members 1 and 2 in org a, member 3 in org b), two
// groups, comments on members and on a group, badges and friendships.
func newRelationsEnv(t *testing.T, b backend) *env {
	e := newEnv(t, b, gormcache.Config{})
	require.NoError(t, e.db.SetupJoinTable(&Member{}, "Groups", &Membership{}))
	require.NoError(t, e.db.AutoMigrate(&Org{}, &Member{}, &Group{}, &Membership{}, &Comment{}, &Badge{}))
	// A new session, so that each statement starts afresh.
	db := e.db.Clauses(gormcache.NoCache()).Session(&gorm.Session{})
	require.NoError(t, db.Create(&[]Group{{Name: "admins"}, {Name: "users"}}).Error)
	require.NoError(t, db.Create(&[]Org{
		{Region: "eu", Code: "a", Name: "Alpha", Members: []Member{
			{Email: "ann@a", Comments: []Comment{{Body: "hi"}}, Badges: []Badge{{Label: "gold"}}},
			{Email: "bob@a", Badges: []Badge{{Label: "silver"}}},
		}},
		{Region: "eu", Code: "b", Name: "Beta", Members: []Member{{Email: "cid@b"}}},
	}).Error)
	require.NoError(t, db.Create(&[]Membership{{MemberID: 1, GroupID: 1, Role: "owner"}, {MemberID: 2, GroupID: 2, Role: "guest"}}).Error)
	require.NoError(t, db.Create(&Comment{OwnerID: 1, OwnerType: "groups", Body: "welcome"}).Error)
	require.NoError(t, db.Model(&Member{ID: 1}).Association("Friends").Append(&Member{ID: 2}))
	return e
}

var relationReads = freshness.Reads{
	"org eu/a with members": func(t testing.TB, db *gorm.DB) any {
		var o Org
		require.NoError(t, db.Preload("Members", func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }).
			First(&o, "region = ? AND code = ?", "eu", "a").Error)
		return o
	},
	"member 1 with everything": func(t testing.TB, db *gorm.DB) any {
		var m Member
		order := func(tx *gorm.DB) *gorm.DB { return tx.Order("id") }
		require.NoError(t, db.Preload("Comments", order).Preload("Groups", order).Preload("Friends", order).
			Preload("Badges", order).First(&m, 1).Error)
		return m
	},
	"group 1 with comments": func(t testing.TB, db *gorm.DB) any {
		var g Group
		require.NoError(t, db.Preload("Comments").First(&g, 1).Error)
		return g
	},
	"owners": func(t testing.TB, db *gorm.DB) any {
		var ms []Membership
		require.NoError(t, db.Where("role = ?", "owner").Order("member_id, group_id").Find(&ms).Error)
		return ms
	},
	"badges of ann@a": func(t testing.TB, db *gorm.DB) any {
		var bs []Badge
		require.NoError(t, db.Where("member_email = ?", "ann@a").Order("id").Find(&bs).Error)
		return bs
	},
	"emails of org eu/b": func(t testing.TB, db *gorm.DB) any {
		var emails []string
		require.NoError(t, db.Model(&Member{}).Where("org_region = ? AND org_code = ?", "eu", "b").
			Order("email").Pluck("email", &emails).Error)
		return emails
	},
}

var relationWrites = freshness.Writes{
	"rename an org by its composite key": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Org{Region: "eu", Code: "a"}).Update("name", "Alef").Error)
	},
	"move a member to another org": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 2}).Updates(map[string]any{"org_code": "b"}).Error)
	},
	"delete an org by its composite key": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{}).Where("org_code = ?", "b").Update("org_code", "a").Error)
		require.NoError(t, db.Delete(&Org{Region: "eu", Code: "b"}).Error)
	},
	"comment on a member": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 1}).Association("Comments").Append(&Comment{Body: "again"}))
	},
	"move a comment from a member to a group": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Comment{ID: 1}).Updates(map[string]any{"owner_type": "groups"}).Error)
	},
	"join a group": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 1}).Association("Groups").Append(&Group{ID: 2}))
	},
	"change a role in the join table": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Membership{}).Where("member_id = ? AND group_id = ?", 2, 2).Update("role", "owner").Error)
	},
	"leave a group": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 1}).Association("Groups").Delete(&Group{ID: 1}))
	},
	"befriend": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 1}).Association("Friends").Append(&Member{ID: 3}))
	},
	"unfriend from the other side": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Exec("DELETE FROM friendships WHERE member_id = ? AND friend_id = ?", 1, 2).Error)
	},
	"change the email badges reference": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Model(&Member{ID: 1}).Update("email", "ann@b").Error)
	},
	"give a badge": func(t testing.TB, db *gorm.DB) {
		require.NoError(t, db.Create(&Badge{MemberEmail: "ann@a", Label: "bronze"}).Error)
	},
	"upsert on the email": func(t testing.TB, db *gorm.DB) {
		m := Member{OrgRegion: "eu", OrgCode: "b", Email: "bob@a"}
		require.NoError(t, db.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "email"}},
			DoUpdates: clause.AssignmentColumns([]string{"org_code"}),
		}).Create(&m).Error)
	},
}

// TestRelationsFreshness checks every read of the relations above against
// every write.
func TestRelationsFreshness(t *testing.T) {
	checkFreshness(t, newRelationsEnv, relationReads, relationWrites)
}
