// Package identity keeps Thunaivi's users, their password hashes and their
// server-side sessions.
package identity
