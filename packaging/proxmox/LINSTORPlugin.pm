package PVE::Storage::Custom::LINSTORPlugin;

# Proxmox VE storage plugin for LINSTOR: a thin shim. Every storage method runs
# `linstor-pve <method>` with one JSON object on stdin ({storeid, scfg, node, args})
# and reads one JSON object from stdout ({result} or {error}); an error becomes a
# `die` carrying the LINSTOR message unchanged. Progress lines on the command's
# stderr go straight to PVE's task log. All logic lives in the Python package
# proxmox_plugin (linstor-bundle), so it is tested once, in one language; the
# one exception, parse_volname (see there), is held to it by t/api.t.
#
# Storage type `linstor`, not `drbd`: PVE marks the types in @SHARED_STORAGE
# (which includes `drbd`) shared unconditionally, but a LINSTOR storage is only
# shared when its resource group replicates with DRBD across the nodes; the
# embedded single-machine controller is local. So `shared` is an ordinary
# option: set `shared 1` for DRBD-backed multi-node storage (a migration then
# moves no data), leave it unset otherwise. A live migration's two DRBD
# primaries are switched on by activate_volume on the destination (the VM locked
# for the move, its disk in use on the source) and off by the deactivate_volume
# on the source or the destination (see the README).

use strict;
use warnings;

use Fcntl qw(F_GETFD F_SETFD FD_CLOEXEC);
use IO::Handle;
use IPC::Open3 qw(open3);
use JSON::PP;
use Sys::Hostname qw(hostname);

use PVE::Storage::Plugin;

use base qw(PVE::Storage::Plugin);

# The storage API version whose method signatures this shim implements and was
# tested against (rename_volume needs 10; volume_has_feature's $opts, 11).
use constant TESTED_APIVER => 11;
use constant MIN_APIVER => 10;
use constant COMMAND => 'linstor-pve';

# UTF-8 both ways, as PVE's own encode_json/decode_json: without ->utf8 a character
# U+0080..U+00FF went down the pipe as one Latin-1 byte (no UTF-8 for linstor-pve) and
# one above as UTF-8 with a "Wide character" warning.
my $json = JSON::PP->new->utf8->canonical->allow_nonref;

# PVE loads a plugin when APIVER - APIAGE <= api() <= APIVER. Like LINBIT's
# plugin, answer a newer PVE's own APIVER as long as its compatibility window
# still reaches the tested version; otherwise answer the tested version and let
# PVE say why it refuses.
sub api {
    my $apiver = eval { PVE::Storage::APIVER() };
    return TESTED_APIVER if !defined($apiver);
    my $apiage = eval { PVE::Storage::APIAGE() } // 0;
    return $apiver if $apiver >= MIN_APIVER && $apiver - $apiage <= TESTED_APIVER;
    return TESTED_APIVER;
}

sub type {
    return 'linstor';
}

sub plugindata {
    return {
        content => [ { images => 1, rootdir => 1 }, { images => 1 } ],
        format => [ { raw => 1 }, 'raw' ],
    };
}

# These names are also LINBIT's (an operator's storage.cfg keys keep their
# meaning; LINBIT's disks are not adopted); a property defined twice breaks
# pve-storage, so this plugin and linstor-proxmox cannot be installed together.
sub properties {
    return {
        controller => {
            description => "LINSTOR controller URL(s), comma separated (default: the LINSTOR client config).",
            type => 'string',
        },
        resourcegroup => {
            description => "LINSTOR resource group (profile) new disks are spawned from.",
            type => 'string',
        },
        profile => {
            description => "Alias of resourcegroup.",
            type => 'string',
        },
        preferlocal => {
            description => "Put one of each new disk's replicas on the allocating node (if it has the profile's pool).",
            type => 'boolean',
        },
        statuscache => {
            description => "Seconds a capacity answer is shared between processes (0: off).",
            type => 'integer',
            minimum => 0,
        },
        apica => {
            description => "CA certificate file for HTTPS to the controller.",
            type => 'string',
        },
        apicrt => {
            description => "Client certificate file for HTTPS to the controller.",
            type => 'string',
        },
        apikey => {
            description => "Client key file for HTTPS to the controller.",
            type => 'string',
        },
        apitoken => {
            description => "File holding the controller's bearer token ({\"token\": ...} or the bare token).",
            type => 'string',
        },
    };
}

sub options {
    return {
        nodes => { optional => 1 },
        disable => { optional => 1 },
        content => { optional => 1 },
        shared => { optional => 1 },
        bwlimit => { optional => 1 },
        map { $_ => { optional => 1 } } qw(
            controller resourcegroup profile preferlocal statuscache apica apicrt apikey apitoken
        ),
    };
}

# PVE's daemons run with PATH=/sbin:/bin:/usr/sbin:/usr/bin; pip installs console
# scripts to /usr/local/bin, so look there too.
sub _command {
    for my $dir (split(/:/, $ENV{PATH} // ''), '/usr/local/bin') {
        return "$dir/" . COMMAND if length($dir) && -x "$dir/" . COMMAND;
    }
    die COMMAND . " not found in PATH or /usr/local/bin (is linstor-bundle installed?)\n";
}

sub _nodename {
    return PVE::INotify::nodename() if defined(&PVE::INotify::nodename);
    my ($short) = split(/\./, hostname());
    return $short;
}

# Run `linstor-pve $method` with $request as JSON; return the result or die with
# the error message exactly as linstor-pve rendered it.
sub _run {
    my ($method, $request) = @_;

    my $input = $json->encode($request);
    my ($to_child, $from_child);
    my $command = _command();
    # A command that exits before reading its request (a broken install) must not kill the
    # PVE daemon calling us with SIGPIPE: the write fails instead, and the missing answer
    # below says so.
    local $SIG{PIPE} = 'IGNORE';
    my $pid = eval { open3($to_child, $from_child, '>&STDERR', $command, $method) };
    die "cannot run $command: $@" if $@;
    print {$to_child} $input;
    close($to_child);
    my $output = do { local $/; <$from_child> } // '';
    close($from_child);
    waitpid($pid, 0);
    my $status = $? >> 8;

    # The answer comes through a pipe, so Perl taints it, and PVE's daemons
    # (pvedaemon, pveproxy) run with -T: a path handed to kvm, qemu-img or mkfs
    # would die with "Insecure dependency in exec". It is this plugin's own
    # command's answer (linstor-pve, found in PVE's fixed PATH, which checked
    # every name it returns), so it is untainted as a whole before it is
    # decoded, as PVE's own plugins untaint what their commands print.
    ($output) = $output =~ /\A(.*)\z/s;
    my $answer = eval { $json->decode($output) };
    die COMMAND . " $method failed (exit status $status) without an answer\n"
        if ref($answer) ne 'HASH';
    if (my $error = $answer->{error}) {
        my $message = $error->{message} // 'unknown error';
        chomp($message);
        die "$message\n";
    }
    return $answer->{result};
}

sub _storage_call {
    my ($method, $storeid, $scfg, %args) = @_;
    return _run($method, {
        storeid => $storeid,
        scfg => $scfg,
        node => _nodename(),
        args => \%args,
    });
}

# PVE calls parse_volname for every image of a storage, under its 60 s storage
# lock, when it frees a template disk (volume_is_base_and_used) and elsewhere: a
# linstor-pve process per name (about 0.2 s) would not fit a few hundred images.
# So names are parsed here, by the rules of proxmox_plugin/volnames.py; t/api.t
# holds this parser to linstor-pve's name by name. The captures are untainted.
my $DISK = qr/[A-Za-z0-9][A-Za-z0-9_-]{0,63}/;    # disk-<n>, cloudinit, state-<snap>, any vm-<vmid>-<name>
my $VMID = qr/[1-9][0-9]{0,8}/;

sub parse_volname {
    my ($class, $volname) = @_;
    $volname //= '';
    if ($volname =~ m!\A(base-($VMID)-$DISK)/((vm|base)-($VMID)-$DISK)\z!) {
        return ('images', $3, $5 + 0, $1, $2 + 0, $4 eq 'base' ? 1 : 0, 'raw');
    }
    if ($volname =~ m!\A((vm|base)-($VMID)-$DISK)\z!) {
        return ('images', $1, $3 + 0, undef, undef, $2 eq 'base' ? 1 : 0, 'raw');
    }
    die "invalid volname '$volname': not a volume name this storage uses; correction: expected "
        . "vm-<vmid>-<name> (disk-<n>, cloudinit, state-<snap> or up to 64 letters, digits, _ and -), "
        . "base-<vmid>-<name>, or base-<vmid>-<name>/vm-<vmid>-<name>\n";
}

# sparseinit (qemu-img then skips writing zeros) also needs storage whose new
# volumes read as zeros, which thick LVM's do not: that one asks the controller,
# in the same one process.
sub volume_has_feature {
    my ($class, $scfg, $feature, $storeid, $volname, $snapname, $running, $opts) = @_;
    if (($feature // '') eq 'sparseinit') {
        # Not known (the controller unreachable): no sparseinit, qemu-img writes every block.
        return eval {
            _storage_call('volume_starts_zeroed', $storeid, $scfg, volname => $volname, snapname => $snapname)
        };
    }
    return _run('volume_has_feature', {
        args => { feature => $feature, volname => $volname, snapname => $snapname },
    });
}

sub alloc_image {
    my ($class, $storeid, $scfg, $vmid, $fmt, $name, $size) = @_;
    return _storage_call('alloc_image', $storeid, $scfg,
        vmid => $vmid, fmt => $fmt, name => $name, size => defined($size) ? $size + 0 : undef);
}

sub free_image {
    my ($class, $storeid, $scfg, $volname, $isBase, $format) = @_;
    _storage_call('free_image', $storeid, $scfg, volname => $volname);
    return undef;
}

sub list_images {
    my ($class, $storeid, $scfg, $vmid, $vollist, $cache) = @_;
    return _storage_call('list_images', $storeid, $scfg, vmid => $vmid, vollist => $vollist);
}

sub status {
    my ($class, $storeid, $scfg, $cache) = @_;
    return @{ _storage_call('status', $storeid, $scfg) };
}

sub check_connection {
    my ($class, $storeid, $scfg) = @_;
    return _storage_call('check_connection', $storeid, $scfg);
}

sub activate_storage {
    my ($class, $storeid, $scfg, $cache) = @_;
    return 1;
}

sub deactivate_storage {
    my ($class, $storeid, $scfg, $cache) = @_;
    return 1;
}

sub path {
    my ($class, $scfg, $volname, $storeid, $snapname) = @_;
    my ($path, $vmid, $vtype) = @{ _storage_call('path', $storeid, $scfg,
        volname => $volname, snapname => $snapname) };
    return wantarray ? ($path, $vmid, $vtype) : $path;
}

# filesystem_path gets no storage id; find it as the section PVE handed us. By
# its content: PVE::Storage::config() hands out a copy (dclone) each time, so
# the reference PVE passed here is never one of its sections.
sub filesystem_path {
    my ($class, $scfg, $volname, $snapname) = @_;
    my $ids = eval { PVE::Storage::config()->{ids} } // {};
    my $wanted = eval { $json->encode($scfg) } // '';
    my @storeids = grep { (eval { $json->encode($ids->{$_}) } // '') eq $wanted } keys %$ids;
    die "cannot tell which storage holds '$volname'; use path()\n" if @storeids != 1;
    return $class->path($scfg, $volname, $storeids[0], $snapname);
}

sub activate_volume {
    my ($class, $storeid, $scfg, $volname, $snapname, $cache, $hints) = @_;
    return _storage_call('activate_volume', $storeid, $scfg, volname => $volname, snapname => $snapname);
}

sub deactivate_volume {
    my ($class, $storeid, $scfg, $volname, $snapname, $cache) = @_;
    return _storage_call('deactivate_volume', $storeid, $scfg, volname => $volname, snapname => $snapname);
}

sub volume_resize {
    my ($class, $scfg, $storeid, $volname, $size, $running) = @_;
    _storage_call('volume_resize', $storeid, $scfg, volname => $volname, size => $size + 0);
    return undef;
}

sub volume_snapshot {
    my ($class, $scfg, $storeid, $volname, $snap) = @_;
    _storage_call('volume_snapshot', $storeid, $scfg, volname => $volname, snap => $snap);
    return undef;
}

# LINSTOR rolls back only to the most recent snapshot: the newer ones are
# $blockers, and saying so here, before PVE stops the guest, is what PVE's own
# ZFS plugin does.
sub volume_rollback_is_possible {
    my ($class, $scfg, $storeid, $volname, $snap, $blockers) = @_;
    my $newer = _storage_call('volume_rollback_is_possible', $storeid, $scfg, volname => $volname, snap => $snap);
    return 1 if ref($newer) ne 'ARRAY' || !@$newer;    # (an older linstor-pve answers 1)
    push @$blockers, @$newer if ref($blockers) eq 'ARRAY';
    die "can't rollback, '$snap' is not most recent snapshot on '$volname'\n";
}

sub volume_snapshot_rollback {
    my ($class, $scfg, $storeid, $volname, $snap) = @_;
    _storage_call('volume_snapshot_rollback', $storeid, $scfg, volname => $volname, snap => $snap);
    return undef;
}

sub volume_snapshot_delete {
    my ($class, $scfg, $storeid, $volname, $snap, $running) = @_;
    _storage_call('volume_snapshot_delete', $storeid, $scfg, volname => $volname, snap => $snap);
    return undef;
}

sub volume_snapshot_needs_fsfreeze {
    return 1;
}

sub volume_size_info {
    my ($class, $scfg, $storeid, $volname, $timeout) = @_;
    my $info = _storage_call('volume_size_info', $storeid, $scfg, volname => $volname);
    return wantarray ? @{$info}{qw(size format used parent)} : $info->{size};
}

sub rename_volume {
    my ($class, $scfg, $storeid, $source_volname, $target_vmid, $target_volname) = @_;
    return _storage_call('rename_volume', $storeid, $scfg, source_volname => $source_volname,
        target_vmid => $target_vmid, target_volname => $target_volname);
}

# Moving a disk between storages that share nothing (an offline migration, qm
# remote-migrate, pvesm export/import): PVE's raw+size stream, written and read
# by linstor-pve (proxmox_plugin/transfer.py), which also says what it offers.
sub volume_export_formats {
    my ($class, $scfg, $storeid, $volname, $snapshot, $base_snapshot, $with_snapshots) = @_;
    return @{ _run('volume_export_formats', { args => { volname => $volname, snapshot => $snapshot,
        base_snapshot => $base_snapshot, with_snapshots => _flag_or_list($with_snapshots) } }) };
}

sub volume_import_formats {
    my ($class, $scfg, $storeid, $volname, $snapshot, $base_snapshot, $with_snapshots) = @_;
    return @{ _run('volume_import_formats', { args => { volname => $volname, snapshot => $snapshot,
        base_snapshot => $base_snapshot, with_snapshots => _flag_or_list($with_snapshots) } }) };
}

sub volume_export {
    my ($class, $scfg, $storeid, $fh, $volname, $format, $snapshot, $base_snapshot, $with_snapshots) = @_;
    _with_data_fd($fh, '>&', sub {
        _storage_call('volume_export', $storeid, $scfg, volname => $volname, format => $format,
            snapshot => $snapshot, base_snapshot => $base_snapshot, with_snapshots => _flag_or_list($with_snapshots),
            data_fd => $_[0]);
    });
    return undef;
}

sub volume_import {
    my ($class, $scfg, $storeid, $fh, $volname, $format, $snapshot, $base_snapshot, $with_snapshots,
        $allow_rename) = @_;
    return _with_data_fd($fh, '<&', sub {
        _storage_call('volume_import', $storeid, $scfg, volname => $volname, format => $format,
            snapshot => $snapshot, base_snapshot => $base_snapshot, with_snapshots => _flag_or_list($with_snapshots),
            allow_rename => $allow_rename ? JSON::PP::true : JSON::PP::false, data_fd => $_[0]);
    });
}

# PVE's $with_snapshots is a flag or a list of snapshot names; an older Perl keeps
# storage_migrate's '-with-snapshots 0' a string, which JSON would send as "0".
sub _flag_or_list {
    my ($value) = @_;
    return $value if ref($value) eq 'ARRAY';
    return $value ? JSON::PP::true : JSON::PP::false;
}

# linstor-pve's stdin and stdout carry the request and the answer, and PVE's
# handle may be either of them (pvesm export/import -), so the stream goes on a
# duplicate, kept open across exec (Perl opens descriptors close-on-exec).
sub _with_data_fd {
    my ($fh, $mode, $code) = @_;
    $fh->flush() if $mode eq '>&';  # what Perl buffered goes first
    open(my $data, $mode, $fh) or die "cannot pass the data stream to " . COMMAND . ": $!\n";
    my $flags = fcntl($data, F_GETFD, 0);
    fcntl($data, F_SETFD, ($flags // 0) & ~FD_CLOEXEC)
        or die "cannot pass the data stream to " . COMMAND . ": $!\n";
    my $result = eval { $code->(fileno($data)) };
    my $error = $@;
    close($data);
    die $error if $error;
    return $result;
}

sub create_base {
    my ($class, $storeid, $scfg, $volname) = @_;
    return _storage_call('create_base', $storeid, $scfg, volname => $volname);
}

sub clone_image {
    my ($class, $scfg, $storeid, $volname, $vmid, $snap) = @_;
    return _storage_call('clone_image', $storeid, $scfg, volname => $volname, vmid => $vmid,
        snapname => $snap);
}

1;
