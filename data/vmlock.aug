(*
Module: Vmlock
  Parses vmlock's configuration files, /etc/vmlock/vmlock.conf and
  /etc/vmlock/qemu-sanlock.conf: libvirt's "key = value" syntax, as vmlock's
  config reader accepts it.

About: Syntax
  - one "key = value" per line, blanks allowed around the key and the "=";
  - a value is a string in double or single quotes (no escapes, on one
    line), a signed integer, or a list "[ v1, v2 ]" of strings and integers,
    which may span lines, hold comments and end in a comma;
  - "#" starts a comment, also after a value; blank lines are kept.

About: Tree
  A setting is a node named after its key. The value of a known string
  setting has no quotes (they are kept on write-back; new strings get double
  quotes); any other key's value is kept as written, quotes included. A
  list's elements are numbered children (1, 2, ...). Comments are "#comment"
  nodes.

About: Types
  The known settings are checked like the reader's typed getters do:
  booleans are 0 or 1, numbers are not negative, strings are quoted. Any
  other key (the reader only warns about it) takes any value.

About: Examples
  augtool get /files/etc/vmlock/qemu-sanlock.conf/disk_lease_dir
  augtool set /files/etc/vmlock/vmlock.conf/lock_manager sanlock
*)
module Vmlock =
  autoload xfm

  (* Group: lexical pieces *)

  let sep = del /[ \t]*=[ \t]*/ " = "
  let indent = Util.indent
  let comma = Util.del_str ","

  (* Blanks, newlines and comments, between list elements *)
  let list_space_re = /([ \t]*(#[^\n]*)?\n)*[ \t]*/
  let list_space = del list_space_re " "
  (* after the last element: maybe a comma *)
  let list_end = del (list_space_re . (/,/ . list_space_re)?) " "

  (* Group: values *)

  (* An integer as the reader takes it: an optional sign, then digits *)
  let int_re = /[+-]?[0-9]+/
  (* 0 or 1, however written ("+1", "00") *)
  let bool_re = /[+-]?0*[01]/ - /-0*1/
  (* not negative *)
  let uint_re = int_re - /-0*[1-9][0-9]*/

  (* A string or an integer kept as written, quotes included *)
  let raw_re = /"[^"\n]*"|'[^'\n]*'/ | int_re

  let int_val = store int_re
  let bool_val = store bool_re
  let uint_val = store uint_re
  let raw_val = store raw_re

  let list_elem = [ seq "elem" . raw_val ]
  let list_val =
    let elems = list_elem . (list_space . comma . list_space . list_elem)*
              . list_end in
    counter "elem" . Util.del_str "[" . list_space . elems? . Util.del_str "]"

  (* Group: settings *)

  let setting (kw:regexp) (val:lens) =
    [ indent . key kw . sep . val . Util.comment_or_eol ]

  (* Strings have no escapes, so the quote that encloses one cannot appear
     in it: either quote for a string holding neither (new ones get double
     quotes), the other one when it holds one of them. *)
  let str_setting (kw:regexp) =
      setting kw (Quote.do_quote (store /[^"'\n]*/))
    | setting kw (Quote.do_dquote (store /[^"\n]*'[^"\n]*/))
    | setting kw (Quote.do_squote (store /[^'\n]*"[^'\n]*/))

  (* qemu-sanlock.conf; ignore_readonly_and_shared_disks is libvirt's old
     key, still read (and ignored) *)
  let bool_keys = "auto_disk_leases"
                | "require_lease_for_disks"
                | "ignore_readonly_and_shared_disks"
  let uint_keys = "host_id" | "io_timeout"
  (* qemu-sanlock.conf, then vmlock.conf *)
  let str_keys = "disk_lease_dir" | "user" | "group"
               | "lock_manager"

  let key_re = /[A-Za-z_][A-Za-z0-9_.]*/
  let other_keys = key_re - (bool_keys | uint_keys | str_keys)

  let entry = setting bool_keys bool_val
            | setting uint_keys uint_val
            | str_setting str_keys
            | setting other_keys raw_val
            | setting other_keys list_val

  (* Group: the file *)

  let lns = ( Util.empty | Util.comment | entry )*

  let filter = incl "/etc/vmlock/qemu-sanlock.conf"
             . incl "/etc/vmlock/vmlock.conf"
             . Util.stdexcl

  let xfm = transform lns filter
