//! The host collectors against fixture trees: an OpenWrt-like box, a
//! Debian VM as captured, a broken tree, and a textfile directory. Each
//! runs `sonde --once` with `--procfs`, `--sysfs` and `--rootfs` pointed at
//! the tree, and checks the output with promtool and by value.
//!
//! What is and is not fixture-driven: every file a collector reads comes
//! from the tree; system calls do not. statfs(2) is asked about the tree's
//! mount point directories (so sizes are the test machine's), and time,
//! timex and uname report the test machine. The golden comparison leaves
//! those families out. See tests/fixtures/README.md.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{families, promtool_check, repo, sonde_command, value, Scratch};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// Runs `sonde --once` on a tree (procfs, sysfs and rootfs under `root`)
/// with `args`, failing the test if it runs longer than a minute.
fn run_tree(root: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let child = sonde_command()
        .arg("--once")
        .args(["--procfs", root.join("proc").to_str().unwrap()])
        .args(["--sysfs", root.join("sys").to_str().unwrap()])
        .args(["--rootfs", root.join("root").to_str().unwrap()])
        // chronyd may or may not run on the test machine.
        .args(["--no-collector", "chrony"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Read the output while it runs (a full pipe would stall it), and
    // give up after a minute: a hang is a failure, not a stuck test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let out = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("sonde --once on {} hung for a minute", root.display());
        }
    };
    (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn success(text: &str, collector: &str) -> Option<f64> {
    value(text, &format!("node_scrape_collector_success{{collector=\"{collector}\"}}"))
}

/// Every host collector that ran succeeded; they are all of node_exporter's
/// kind, so all report in `node_scrape_collector_success`.
fn all_collectors_succeeded(text: &str, stderr: &str) {
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("node_scrape_collector_success{")).collect();
    assert!(lines.len() > 20, "only {} collectors reported\n{text}", lines.len());
    for line in lines {
        assert!(line.ends_with(" 1"), "{line}\nstderr: {stderr}");
    }
}

/// Every label value of `label` on the samples of `family`.
fn label_values(text: &str, family: &str, label: &str) -> Vec<String> {
    let prefix = format!("{family}{{");
    let key = format!("{label}=\"");
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| Some(l.split(&key).nth(1)?.split('"').next()?.to_owned()))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn openwrt_like_box_reports_every_collector() {
    let (code, text, stderr) = run_tree(&fixture("openwrt"), &["--collector", "processes"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    promtool_check(&text);
    all_collectors_succeeded(&text, &stderr);
    // Four CPUs, and the kernel's guest columns.
    assert_eq!(label_values(&text, "node_cpu_seconds_total", "cpu"), ["0", "1", "2", "3"]);
    // Built without IPv6 and without PSI: those families are absent and
    // their collectors still succeed.
    let fams = families(&text);
    for f in &fams {
        assert!(!f.contains("6_") && !f.starts_with("node_sockstat_TCP6"), "an IPv6 family: {f}");
        assert!(!f.starts_with("node_pressure_"), "{f}");
    }
    assert_eq!(label_values(&text, "node_udp_queues", "ip"), ["v4"]);
    assert_eq!(value(&text, "node_udp_queues{ip=\"v4\",queue=\"rx\"}"), Some(832.0));
}

/// See: node_exporter's default fs-type excludes hide OpenWrt's overlay
/// root and its squashfs /rom (exporters.md §5.2, §6.2). The mount table
/// is one captured from a box booted for real (tests/mounts.rs).
#[test]
fn openwrt_overlay_root_and_rom_are_not_hidden() {
    let (_, text, _) = run_tree(&fixture("openwrt"), &[]);
    let root = "{device=\"overlayfs:/overlay\",device_error=\"\",fstype=\"overlay\",mountpoint=\"/\"}";
    let rom = "{device=\"/dev/loop0\",device_error=\"\",fstype=\"squashfs\",mountpoint=\"/rom\"}";
    for series in [root, rom] {
        assert!(value(&text, &format!("node_filesystem_size_bytes{series}")).unwrap() > 0.0, "{series}");
        assert_eq!(value(&text, &format!("node_filesystem_device_error{series}")), Some(0.0));
    }
    assert_eq!(value(&text, &format!("node_filesystem_readonly{rom}")), Some(1.0));
    // /mnt/sda1's directory is not in the tree: statfs fails, the mount is
    // reported with the error and without sizes.
    let gone =
        "{device=\"/dev/loop1\",device_error=\"no such file or directory\",fstype=\"ext4\",mountpoint=\"/mnt/sda1\"}";
    assert_eq!(value(&text, &format!("node_filesystem_device_error{gone}")), Some(1.0));
    assert!(!text.contains(&format!("node_filesystem_size_bytes{gone}")));
    // The pseudo filesystems are left out as node_exporter leaves them.
    assert_eq!(
        label_values(&text, "node_filesystem_mount_info", "mountpoint"),
        ["/", "/mnt/sda1", "/overlay", "/rom", "/tmp"]
    );
}

/// See: openwrt/packages#28417, duplicate hwmon samples on multi-radio
/// mt7996 boards; node_exporter disambiguates the chips, and so must sonde.
#[test]
fn three_radios_of_one_phy_are_three_hwmon_chips() {
    let (_, text, _) = run_tree(&fixture("openwrt"), &[]);
    assert_eq!(
        label_values(&text, "node_hwmon_temp_celsius", "chip"),
        [
            "ieee80211_phy0_mt7996_phy0_0",
            "ieee80211_phy0_mt7996_phy0_1",
            "ieee80211_phy0_mt7996_phy0_2",
            "thermal_thermal_zone0"
        ]
    );
    let chip = "chip=\"ieee80211_phy0_mt7996_phy0_2\"";
    assert_eq!(value(&text, &format!("node_hwmon_temp_celsius{{{chip},sensor=\"temp1\"}}")), Some(49.5));
    assert_eq!(value(&text, &format!("node_hwmon_temp_crit_celsius{{{chip},sensor=\"temp1\"}}")), Some(110.0));
    assert_eq!(value(&text, &format!("node_hwmon_chip_names{{{chip},chip_name=\"mt7996_phy0_2\"}}")), Some(1.0));
    assert_eq!(value(&text, "node_thermal_zone_temp{type=\"cpu-thermal\",zone=\"0\"}"), Some(51.5));
    // The thermal zone's own `temp`, read through the chip's `device`
    // link as node_exporter reads it.
    assert_eq!(value(&text, "node_hwmon_temp_celsius{chip=\"thermal_thermal_zone0\",sensor=\"temp0\"}"), Some(51.5));
}

/// See: issue 15, fans, voltages, power, current, energy and humidity,
/// with node_exporter's names, units and `chip`/`sensor` labels ("Node
/// Exporter Full" has fan and voltage panels).
#[test]
fn hwmon_fans_voltages_power_energy_and_humidity() {
    // node_exporter's tree: a super-I/O, an Apple SMC whose files are in
    // device/, two chips of one device, a GPU's clocks.
    let text = run_only(&fixture("node_exporter"), &["hwmon"]);
    assert_eq!(value(&text, "node_hwmon_fan_rpm{chip=\"nct6779\",sensor=\"fan2\"}"), Some(1098.0));
    assert_eq!(value(&text, "node_hwmon_fan_target_rpm{chip=\"nct6779\",sensor=\"fan2\"}"), Some(27000.0));
    assert_eq!(value(&text, "node_hwmon_in_max_volts{chip=\"nct6779\",sensor=\"in0\"}"), Some(1.744));
    assert_eq!(value(&text, "node_hwmon_intrusion_alarm{chip=\"nct6779\",sensor=\"intrusion1\"}"), Some(1.0));
    assert_eq!(value(&text, "node_hwmon_fan_min_rpm{chip=\"platform_applesmc_768\",sensor=\"fan1\"}"), Some(2160.0));
    assert!(
        text.contains("node_hwmon_sensor_label{chip=\"platform_applesmc_768\",label=\"Left side\",sensor=\"fan1\"} 1")
    );
    assert_eq!(
        value(&text, "node_hwmon_pwm_enable{chip=\"platform_asus_nb_wmi_asus_wmi_sensors\",sensor=\"pwm1\"}"),
        Some(2.0)
    );
    assert_eq!(value(&text, "node_hwmon_freq_freq_mhz{chip=\"hwmon4\",sensor=\"sclk\"}"), Some(214.0));
    // A Raspberry Pi's HATs and an x86 board's chips (hand-made).
    let text = run_only(&fixture("sensors"), &["hwmon"]);
    let ina = "chip=\"i2c_1_1_0040\"";
    assert_eq!(value(&text, &format!("node_hwmon_curr_amps{{{ina},sensor=\"curr1\"}}")), Some(1.204));
    assert_eq!(value(&text, &format!("node_hwmon_power_watt{{{ina},sensor=\"power1\"}}")), Some(6.12));
    assert_eq!(value(&text, &format!("node_hwmon_in_volts{{{ina},sensor=\"in1\"}}")), Some(5084.0 * 0.001));
    assert_eq!(
        value(&text, &format!("node_hwmon_update_interval_seconds{{{ina},sensor=\"update_interval0\"}}")),
        Some(1.1)
    );
    let sht = "chip=\"i2c_1_1_0044\",sensor=\"humidity1\"";
    assert_eq!(value(&text, &format!("node_hwmon_humidity{{{sht}}}")), Some(0.045512));
    let energy = "node_hwmon_energy_joule_total{chip=\"platform_amd_energy_0\",sensor=\"energy1\"}";
    assert_eq!(value(&text, energy), Some(123456.789012));
    assert!(text.contains("# TYPE node_hwmon_energy_joule_total counter\n"));
    let meter = "chip=\"platform_acpi000d:00\",sensor=\"power1\"";
    assert_eq!(value(&text, &format!("node_hwmon_power_average_watt{{{meter}}}")), Some(45.0));
    assert_eq!(value(&text, &format!("node_hwmon_power_average_interval_max_seconds{{{meter}}}")), Some(60.0));
    assert_eq!(value(&text, &format!("node_hwmon_power_accuracy{{{meter}}}")), Some(0.095));
    let it87 = "chip=\"platform_it87_2608\"";
    assert_eq!(value(&text, &format!("node_hwmon_beep_enabled{{{it87},sensor=\"beep_enable0\"}}")), Some(1.0));
    assert_eq!(value(&text, &format!("node_hwmon_voltage_regulator_version{{{it87},sensor=\"vrm0\"}}")), Some(110.0));
    assert_eq!(value(&text, &format!("node_hwmon_cpu_vid_volts{{{it87},sensor=\"cpu0\"}}")), Some(1.1));
    assert_eq!(value(&text, &format!("node_hwmon_fan_beep_enabled{{{it87},sensor=\"fan1\"}}")), Some(1.0));
    assert_eq!(value(&text, &format!("node_hwmon_temp_type{{{it87},sensor=\"temp1\"}}")), Some(4.0));
    assert_eq!(value(&text, "node_hwmon_pwm{chip=\"platform_pwm_fan\",sensor=\"pwm1\"}"), Some(100.0));
    // An old driver's sensors, all in device/.
    assert_eq!(value(&text, "node_hwmon_fan_rpm{chip=\"platform_w83627ehf_656\",sensor=\"fan2\"}"), Some(1350.0));
}

#[test]
fn openwrt_network_disk_and_os_families() {
    let (_, text, _) = run_tree(&fixture("openwrt"), &[]);
    assert_eq!(value(&text, "node_network_up{device=\"lan2\"}"), Some(0.0));
    assert_eq!(value(&text, "node_network_up{device=\"wan\"}"), Some(1.0));
    // A link that is down has speed -1, which node_exporter writes as is.
    assert_eq!(value(&text, "node_network_speed_bytes{device=\"lan2\"}"), Some(-125_000.0));
    assert_eq!(value(&text, "node_network_speed_bytes{device=\"wan\"}"), Some(125_000_000.0));
    assert!(!text.contains("bonding_masters"), "a regular file taken for a device");
    // The basic attributes by default; the rest with [netclass] all_attributes.
    assert_eq!(value(&text, "node_network_mtu_bytes{device=\"eth0\"}"), Some(1504.0));
    assert_eq!(value(&text, "node_network_flags{device=\"lan2\"}"), Some(4099.0));
    assert!(!families(&text).contains("node_network_iface_id"));
    assert!(text.contains("ifalias=\"uplink to ISP\""));
    assert_eq!(value(&text, "node_network_receive_nohandler_total{device=\"wan\"}"), Some(17.0));
    assert_eq!(value(&text, "node_network_receive_drop_total{device=\"wan\"}"), Some(17.0));
    assert_eq!(value(&text, "node_arp_entries{device=\"br-lan\"}"), Some(3.0));
    // Flash partitions stay, loop devices and sd partitions go.
    let disks = label_values(&text, "node_disk_reads_completed_total", "device");
    assert_eq!(disks, ["mmcblk0", "mmcblk0p1", "mmcblk0p2", "mmcblk0p3", "mmcblk0p4", "mmcblk0p5", "sda"]);
    assert_eq!(value(&text, "node_disk_read_bytes_total{device=\"mmcblk0p5\"}"), Some(142_512.0 * 512.0));
    assert_eq!(value(&text, "node_nf_conntrack_entries"), Some(87.0));
    assert_eq!(value(&text, "node_nf_conntrack_stat_ignore"), Some(40143.0));
    assert!(text.contains("node_os_info{build_id=\"r28427-6df0e3d02a\",id=\"openwrt\","));
    assert_eq!(value(&text, "node_os_version{id=\"openwrt\",id_like=\"lede openwrt\",name=\"OpenWrt\"}"), Some(24.1));
    assert_eq!(value(&text, "node_netstat_Udp_RcvbufErrors"), Some(29.0));
    assert_eq!(value(&text, "node_netstat_TcpExt_ListenDrops"), Some(0.0));
    assert_eq!(value(&text, "node_vmstat_pgmajfault"), Some(732.0));
}

/// The families that come from the tree's files alone, as written to
/// tests/fixtures/openwrt/metrics.txt: the rest depends on the machine
/// running the test (system calls, statfs sizes, durations).
fn fixture_driven(text: &str) -> String {
    let machine = [
        "node_time_",
        "node_timex_",
        "node_uname_",
        "node_filesystem_size_bytes",
        "node_filesystem_free_bytes",
        "node_filesystem_avail_bytes",
        "node_filesystem_files",
        "node_selinux_",
        "node_scrape_collector_duration_seconds",
        "process_",
        "sonde_",
    ];
    text.lines()
        .filter(|l| {
            let name = l.strip_prefix("# HELP ").or_else(|| l.strip_prefix("# TYPE ")).unwrap_or(l);
            !machine.iter().any(|m| name.starts_with(m))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The whole exposition of the OpenWrt-like tree, compared with the one
/// committed. `UPDATE=1 cargo test --test fixtures` rewrites it after a
/// deliberate change; review its diff like code.
#[test]
fn openwrt_golden_exposition() {
    // Every host collector and every netclass attribute; the daemons'
    // collectors off, as the tree has no daemons and the box running the
    // test may (a chronyd or Unbound on their default sockets).
    let scratch = Scratch::new("golden");
    let config = scratch
        .write("sonde.toml", "[collectors]\nchrony = false\nunbound = false\n[netclass]\nall_attributes = true\n");
    let (_, text, _) =
        run_tree(&fixture("openwrt"), &["--collector", "processes", "--config", config.to_str().unwrap()]);
    let got = fixture_driven(&text);
    let golden = fixture("openwrt/metrics.txt");
    if std::env::var_os("UPDATE").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).expect("no golden file: run with UPDATE=1");
    if got != want {
        let first = got.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "exposition differs from {} from line {}:\n  got:  {:?}\n  want: {:?}",
            golden.display(),
            first + 1,
            got.lines().nth(first),
            want.lines().nth(first)
        );
    }
}

#[test]
fn debian_vm_capture_renders_with_every_collector() {
    let (code, text, stderr) = run_tree(&fixture("debian12-vm"), &["--collector", "processes"]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    promtool_check(&text);
    all_collectors_succeeded(&text, &stderr);
    assert!(families(&text).contains("node_pressure_io_stalled_seconds_total"));
    assert!(families(&text).contains("node_netstat_Udp6_InDatagrams"));
    assert!(text.contains("node_os_info{build_id=\"\",id=\"debian\","));
}

/// A truncated file, files with garbage lines, missing files, a file past
/// the size bound and a FIFO: sonde reports what it can read, marks each
/// failing collector, exits 1 (not by a signal: no panic), does not hang,
/// and its output stays valid.
#[test]
fn a_broken_tree_fails_collectors_one_by_one() {
    let scratch = Scratch::new("broken-tree");
    let tree = scratch.0.join("tree");
    copy_tree(&fixture("broken"), &tree);
    std::fs::create_dir_all(tree.join("root")).unwrap();
    // A huge file: 2 MiB of valid ARP lines, past MAX_PROC_FILE.
    let mut arp = String::from("IP address       HW type     Flags       HW address            Mask     Device\n");
    while arp.len() < 2 << 20 {
        arp.push_str("192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n");
    }
    std::fs::write(tree.join("proc/net/arp"), arp).unwrap();
    // A FIFO: open(2) would block until a writer came.
    let fifo = tree.join("proc/net/udp");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());

    let (code, text, stderr) = run_tree(&tree, &[]);
    assert_eq!(code, Some(1), "a failed collector makes --once exit 1 (and a crash is no exit code); stderr: {stderr}");
    promtool_check(&text);
    for failed in [
        "meminfo",
        "cpu",
        "stat",
        "loadavg",
        "vmstat",
        "pressure",
        "schedstat",
        "entropy",
        "cpufreq",
        "powersupplyclass",
        "filefd",
        "netdev",
        "netstat",
        "arp",
        "diskstats",
        "filesystem",
    ] {
        assert_eq!(success(&text, failed), Some(0.0), "{failed}\n{stderr}");
        assert!(stderr.contains(&format!("collector {failed} failed")), "{failed}: {stderr}");
    }
    for worked in ["uname", "time", "udp_queues", "netclass", "hwmon", "thermal_zone", "textfile"] {
        assert_eq!(success(&text, worked), Some(1.0), "{worked}\n{stderr}");
    }
    assert!(stderr.contains("larger than"), "the huge file's error: {stderr}");
    // What could be read is still there.
    assert_eq!(value(&text, "node_network_receive_bytes_total{device=\"lo\"}"), Some(2_064_377_540.0));
    assert!(!text.contains("device=\"eth0\""), "the truncated line is reported, not half-read");
    assert_eq!(value(&text, "node_netstat_Ip_Forwarding"), Some(1.0));
    assert_eq!(value(&text, "node_netstat_Udp_RcvbufErrors"), Some(31.0));
    assert!(value(&text, "node_netstat_Udp_InErrors").is_none());
    assert_eq!(value(&text, "node_vmstat_oom_kill"), Some(2.0));
    assert_eq!(value(&text, "node_schedstat_timeslices_total{cpu=\"0\"}"), Some(1533.0));
    assert!(!text.contains("node_schedstat_timeslices_total{cpu=\"1\"}"));
    assert!(!text.contains("node_cpu_scaling_frequency_hertz"));
    assert_eq!(value(&text, "node_cpu_scaling_frequency_max_hertz{cpu=\"0\"}"), Some(1.2e9));
    assert_eq!(value(&text, "node_cpu_scaling_governor{cpu=\"0\",governor=\"performance\"}"), Some(1.0));
    assert_eq!(value(&text, "node_power_supply_voltage_volt{power_supply=\"BAT0\"}"), Some(12.0));
    assert!(!text.contains("node_power_supply_capacity"));
    assert_eq!(value(&text, "node_power_supply_info{power_supply=\"BAT0\",type=\"Battery\"}"), Some(1.0));
    assert_eq!(value(&text, "node_disk_reads_completed_total{device=\"vda\"}"), Some(28693.0));
    assert!(
        text.contains("node_filesystem_mount_info{device=\"/dev/vda\",major=\"254\",minor=\"0\",mountpoint=\"/\"} 1")
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// node_exporter's textfile semantics: a bad file is left out whole, a
/// timestamp spoils its file, families merge across files, a family
/// without HELP gets one naming its files.
#[test]
fn textfile_directory_as_node_exporter_reads_it() {
    let scratch = Scratch::new("textfile");
    let dir = scratch.0.join("textfile");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("backup.prom"),
        "# HELP backup_last_success_timestamp_seconds Last good backup.\n\
         # TYPE backup_last_success_timestamp_seconds gauge\n\
         backup_last_success_timestamp_seconds{job=\"nightly\"} 1.7e+09\n\
         apt_upgrades_pending{origin=\"Debian\"} 3\n",
    )
    .unwrap();
    std::fs::write(dir.join("more.prom"), "apt_upgrades_pending{arch=\"amd64\"} 1\n").unwrap();
    std::fs::write(dir.join("broken.prom"), "ok_metric 1\nnot valid {\n").unwrap();
    std::fs::write(dir.join("stamped.prom"), "stamped_metric 1 1700000000000\n").unwrap();
    std::fs::write(dir.join("ignored.txt"), "not read at all\n").unwrap();
    let config = scratch.write("sonde.toml", &format!("[textfile]\ndirectory = \"{}\"\n", dir.display()));
    let out = common::run(&["--once", "--config", config.to_str().unwrap(), "--no-collector", "chrony"]);
    let text = String::from_utf8(out.stdout).unwrap();
    promtool_check(&text);
    assert_eq!(value(&text, "backup_last_success_timestamp_seconds{job=\"nightly\"}"), Some(1.7e9));
    // Merged, every label on every sample, labels sorted.
    assert_eq!(value(&text, "apt_upgrades_pending{arch=\"\",origin=\"Debian\"}"), Some(3.0));
    assert_eq!(value(&text, "apt_upgrades_pending{arch=\"amd64\",origin=\"\"}"), Some(1.0));
    let help = format!("# HELP apt_upgrades_pending Metric read from {0}/backup.prom, {0}/more.prom\n", dir.display());
    assert!(text.contains(&help), "{text}");
    assert!(!text.contains("ok_metric") && !text.contains("stamped_metric") && !text.contains("not read"));
    assert_eq!(value(&text, "node_textfile_scrape_error"), Some(1.0));
    let mtimes = label_values(&text, "node_textfile_mtime_seconds", "file");
    assert_eq!(mtimes, [format!("{}/backup.prom", dir.display()), format!("{}/more.prom", dir.display())]);
    assert_eq!(success(&text, "textfile"), Some(0.0));
}

/// Runs `sonde --once` on a tree with only `collectors` on, and checks its
/// output with promtool and that each of them succeeded.
fn run_only(root: &Path, collectors: &[&str]) -> String {
    let tree = root.file_name().unwrap().to_str().unwrap();
    let scratch = Scratch::new(&format!("only-{tree}-{}", collectors.join("-")));
    let mut config = String::from("[collectors]\ndefaults = false\n");
    for c in collectors {
        config.push_str(&format!("{c} = true\n"));
    }
    let config = scratch.write("sonde.toml", &config);
    let (code, text, stderr) = run_tree(root, &["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(0), "stderr: {stderr}");
    promtool_check(&text);
    for c in collectors {
        assert_eq!(success(&text, c), Some(1.0), "{c}: {stderr}");
    }
    text
}

/// See: issue 15, node_exporter's schedstat is on by default and "Node
/// Exporter Full" graphs it. Nanoseconds become seconds; timeslices stay
/// a count.
#[test]
fn schedstat_per_cpu_running_waiting_and_timeslices() {
    let text = run_only(&fixture("node_exporter"), &["schedstat"]);
    assert_eq!(value(&text, "node_schedstat_running_seconds_total{cpu=\"0\"}"), Some(2045936.778163039));
    assert_eq!(value(&text, "node_schedstat_waiting_seconds_total{cpu=\"1\"}"), Some(364107.263788241));
    assert_eq!(value(&text, "node_schedstat_timeslices_total{cpu=\"1\"}"), Some(5145567945.0));
    assert!(text.contains("# TYPE node_schedstat_running_seconds_total counter\n"));
    // A kernel without CONFIG_SCHEDSTATS (OpenWrt's) has no file: no data,
    // and no failure.
    let text = run_only(&fixture("openwrt"), &["schedstat"]);
    assert!(!text.contains("node_schedstat_"));
}

/// See: issue 15, "Node Exporter Full" graphs the scaled frequencies.
/// kHz become hertz; a policy shared by several CPUs is reported for each
/// (as `cpuN/cpufreq` links lead to it), an offline CPU for none.
#[test]
fn cpufreq_per_cpu_frequencies_and_governor() {
    let text = run_only(&fixture("procfs"), &["cpufreq"]);
    // cpuinfo_cur_freq is only in cpu1's directory, cpuinfo_avg_freq only
    // in policy0's.
    assert_eq!(value(&text, "node_cpu_frequency_hertz{cpu=\"1\"}"), Some(1_200_195_000.0));
    assert_eq!(label_values(&text, "node_cpu_frequency_hertz", "cpu"), ["1"]);
    assert_eq!(value(&text, "node_cpu_frequency_avg_hertz{cpu=\"0\"}"), Some(3_184_097_000.0));
    assert_eq!(value(&text, "node_cpu_scaling_frequency_hertz{cpu=\"0\"}"), Some(1_219_917_000.0));
    assert_eq!(value(&text, "node_cpu_frequency_max_hertz{cpu=\"1\"}"), Some(3.3e9));

    let text = run_only(&fixture("sensors"), &["cpufreq"]);
    assert_eq!(label_values(&text, "node_cpu_scaling_frequency_min_hertz", "cpu"), ["0", "1", "2"]);
    assert_eq!(value(&text, "node_cpu_scaling_frequency_min_hertz{cpu=\"2\"}"), Some(6e8));
    assert_eq!(value(&text, "node_cpu_scaling_governor{cpu=\"1\",governor=\"ondemand\"}"), Some(1.0));
    assert_eq!(value(&text, "node_cpu_scaling_governor{cpu=\"1\",governor=\"schedutil\"}"), Some(0.0));
    assert_eq!(text.matches("node_cpu_scaling_governor{cpu=\"0\"").count(), 6);
    // No cpufreq at all (this VM, the OpenWrt-like box): no data.
    let text = run_only(&fixture("openwrt"), &["cpufreq"]);
    assert!(!text.contains("node_cpu_"));
}

/// See: issue 15, "Node Exporter Full" shows whether the box is on mains
/// (`node_power_supply_online`). Microunits become units, tenths of a
/// degree degrees, and the info family has each supply's own label set.
#[test]
fn power_supplies_as_node_exporter_names_them() {
    // A ThinkPad's adapter and battery (node_exporter's own fixture).
    let text = run_only(&fixture("node_exporter"), &["powersupplyclass"]);
    assert_eq!(value(&text, "node_power_supply_online{power_supply=\"AC\"}"), Some(0.0));
    assert_eq!(value(&text, "node_power_supply_energy_watthour{power_supply=\"BAT0\"}"), Some(36.58));
    assert_eq!(value(&text, "node_power_supply_info{power_supply=\"AC\",type=\"Mains\"}"), Some(1.0));
    assert!(text.contains("model_name=\"LNV-45N1\u{FFFD}\u{FFFD}\",power_supply=\"BAT0\""));
    // A UPS HAT's fuel gauge and charger and a USB-C source (hand-made).
    let text = run_only(&fixture("sensors"), &["powersupplyclass"]);
    let gauge = "{power_supply=\"bq27441-0\"}";
    assert_eq!(value(&text, &format!("node_power_supply_current_ampere{gauge}")), Some(-0.412));
    assert_eq!(value(&text, &format!("node_power_supply_temp_celsius{gauge}")), Some(28.7));
    assert_eq!(value(&text, &format!("node_power_supply_charge_ampere{gauge}")), Some(1.664));
    assert_eq!(value(&text, &format!("node_power_supply_time_to_empty_seconds{gauge}")), Some(14520.0));
    // The *_avg files are not read, as node_exporter does not read them.
    assert!(!text.contains("avg"));
    assert!(text.contains(
        "node_power_supply_info{power_supply=\"ucsi-source-psy-USBC000:001\",scope=\"System\",type=\"USB\",usb_type=\"C [PD] PD_PPS\"} 1\n"
    ));
    let text = run_only(&fixture("openwrt"), &["powersupplyclass"]);
    assert!(!text.contains("node_power_supply_"));
}

/// Issue 14, case 11: an empty /proc file read as a success with no
/// series. Now the collector fails, says which file, and `--once` exits 1.
/// See: issue 14.
#[test]
fn r14_an_empty_proc_file_fails_its_collector() {
    let scratch = Scratch::new("empty-proc");
    let tree = scratch.0.join("tree");
    for d in ["proc", "sys", "root"] {
        std::fs::create_dir_all(tree.join(d)).unwrap();
    }
    std::fs::copy(fixture("openwrt").join("proc/meminfo"), tree.join("proc/meminfo")).unwrap();
    std::fs::write(tree.join("proc/loadavg"), b"").unwrap();
    let config = scratch.write("sonde.toml", "[collectors]\ndefaults = false\nloadavg = true\nmeminfo = true\n");
    let (code, text, stderr) = run_tree(&tree, &["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert_eq!(success(&text, "loadavg"), Some(0.0), "{stderr}");
    assert_eq!(success(&text, "meminfo"), Some(1.0), "{stderr}");
    assert!(stderr.contains("loadavg") && stderr.contains("empty file"), "{stderr}");
}
