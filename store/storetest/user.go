package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	courier "github.com/courierhq/courier"
)

func testUsers(t *testing.T, s courier.Store) {
	start := time.Now()
	bob := &courier.User{Login: "bob", Name: "Bob", Role: courier.RoleDispatcher, PasswordHash: "$2a$10$x", Active: true}
	must(t, s.CreateUser(ctx(t), bob))
	if bob.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	wantRecent(t, "CreatedAt", bob.CreatedAt, start)
	wantRecent(t, "UpdatedAt", bob.UpdatedAt, start)

	got, err := s.User(ctx(t), bob.ID)
	must(t, err)
	if !reflect.DeepEqual(got, bob) {
		t.Fatalf("User(%d) = %+v, want %+v", bob.ID, got, bob)
	}
	got, err = s.UserByLogin(ctx(t), "bob")
	must(t, err)
	if !reflect.DeepEqual(got, bob) {
		t.Fatalf("UserByLogin = %+v, want %+v", got, bob)
	}

	inactive := &courier.User{Login: "alice", Name: "Alice", Role: courier.RoleCashier, Active: false}
	must(t, s.CreateUser(ctx(t), inactive))
	if inactive.ID <= bob.ID {
		t.Fatalf("ids not increasing: %d then %d", bob.ID, inactive.ID)
	}
	got, err = s.User(ctx(t), inactive.ID)
	must(t, err)
	if got.Active {
		t.Fatal("Active=false did not round trip")
	}

	err = s.CreateUser(ctx(t), &courier.User{Login: "bob", Name: "Other Bob", Role: courier.RoleAdmin})
	wantCode(t, err, courier.ECONFLICT)
	wantMessage(t, err, `login "bob" is taken`)

	_, err = s.User(ctx(t), 999999)
	wantCode(t, err, courier.ENOTFOUND)
	wantMessage(t, err, "999999")
	_, err = s.UserByLogin(ctx(t), "nobody")
	wantCode(t, err, courier.ENOTFOUND)

	list, err := s.ListUsers(ctx(t))
	must(t, err)
	if len(list) != 2 || list[0].Login != "bob" || list[1].Login != "alice" {
		t.Fatalf("ListUsers = %+v, want bob then alice", list)
	}
}

func testUpdateUser(t *testing.T, s courier.Store) {
	bob := &courier.User{Login: "bob", Name: "Bob", Role: courier.RoleDispatcher, Active: true}
	must(t, s.CreateUser(ctx(t), bob))
	carol := &courier.User{Login: "carol", Name: "Carol", Role: courier.RoleDispatcher, Active: true}
	must(t, s.CreateUser(ctx(t), carol))

	u, err := s.UpdateUser(ctx(t), bob.ID, func(u *courier.User) error {
		if u.Login != "bob" {
			t.Errorf("fn got login %q, want bob", u.Login)
		}
		u.Login, u.Name, u.Role, u.PasswordHash, u.Active = "robert", "Robert", courier.RoleAdmin, "$2a$10$new", false
		u.ID, u.CreatedAt = 777, time.Time{} // the store keeps these
		return nil
	})
	must(t, err)
	if u.ID != bob.ID || !u.CreatedAt.Equal(bob.CreatedAt) {
		t.Fatalf("UpdateUser changed ID or CreatedAt: %+v", u)
	}
	if u.UpdatedAt.Before(bob.UpdatedAt) {
		t.Fatalf("UpdatedAt went back: %v < %v", u.UpdatedAt, bob.UpdatedAt)
	}
	got, err := s.UserByLogin(ctx(t), "robert")
	must(t, err)
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("after update: %+v, want %+v", got, u)
	}
	_, err = s.UserByLogin(ctx(t), "bob")
	wantCode(t, err, courier.ENOTFOUND)

	_, err = s.UpdateUser(ctx(t), bob.ID, func(u *courier.User) error { u.Login = "carol"; return nil })
	wantCode(t, err, courier.ECONFLICT)
	wantMessage(t, err, `login "carol" is taken`)

	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx(t), bob.ID, func(u *courier.User) error { u.Name = "changed"; return boom })
	if err != boom {
		t.Fatalf("UpdateUser returned %v, want fn's error unchanged", err)
	}
	got, err = s.User(ctx(t), bob.ID)
	must(t, err)
	if got.Name != "Robert" {
		t.Fatalf("fn failed but the user was written: name %q", got.Name)
	}

	_, err = s.UpdateUser(ctx(t), 424242, func(*courier.User) error {
		t.Error("fn called for a missing user")
		return nil
	})
	wantCode(t, err, courier.ENOTFOUND)
}
