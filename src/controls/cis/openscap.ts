// OpenSCAP side by side with the CIS engine: run `oscap-chroot` with SCAP Security Guide content on the
// same folder, read its XCCDF results, and compare verdicts recommendation by recommendation through the
// CIS number <-> SSG rule mapping of ComplianceAsCode's controls/cis_debian12.yml (rule ids only).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cacheDir } from '../../cloud/targets/python.ts';
import type { Report, Status } from './types.ts';

/**
 * CIS Debian Linux 12 v1.1.0 recommendation -> the SSG rules that implement it (Level 1 and 2 Server),
 * from ComplianceAsCode/content controls/cis_debian12.yml (BSD-3-Clause) at commit b3a2cca935 (2026-08),
 * the same content the data stream is built from (docs/host-scanning.md). Variable settings omitted.
 */
export const SSG_CIS_MAP: Readonly<Record<string, readonly string[]>> = {
  '1.1.1.1': ['kernel_module_cramfs_disabled'],
  '1.1.1.2': ['kernel_module_freevxfs_disabled'],
  '1.1.1.3': ['kernel_module_hfs_disabled'],
  '1.1.1.4': ['kernel_module_hfsplus_disabled'],
  '1.1.1.5': ['kernel_module_jffs2_disabled'],
  '1.1.1.6': ['kernel_module_overlayfs_disabled'],
  '1.1.1.8': ['kernel_module_udf_disabled'],
  '1.1.1.9': ['kernel_module_usb-storage_disabled'],
  '1.1.2.1.1': ['partition_for_tmp'],
  '1.1.2.1.2': ['mount_option_tmp_nodev'],
  '1.1.2.1.3': ['mount_option_tmp_nosuid'],
  '1.1.2.1.4': ['mount_option_tmp_noexec'],
  '1.1.2.2.1': ['partition_for_dev_shm'],
  '1.1.2.2.2': ['mount_option_dev_shm_nodev'],
  '1.1.2.2.3': ['mount_option_dev_shm_nosuid'],
  '1.1.2.2.4': ['mount_option_dev_shm_noexec'],
  '1.1.2.3.1': ['partition_for_home'],
  '1.1.2.3.2': ['mount_option_home_nodev'],
  '1.1.2.3.3': ['mount_option_home_nosuid'],
  '1.1.2.4.1': ['partition_for_var'],
  '1.1.2.4.2': ['mount_option_var_nodev'],
  '1.1.2.4.3': ['mount_option_var_nosuid'],
  '1.1.2.5.1': ['partition_for_var_tmp'],
  '1.1.2.5.2': ['mount_option_var_tmp_nodev'],
  '1.1.2.5.3': ['mount_option_var_tmp_nosuid'],
  '1.1.2.5.4': ['mount_option_var_tmp_noexec'],
  '1.1.2.6.1': ['partition_for_var_log'],
  '1.1.2.6.2': ['mount_option_var_log_nodev'],
  '1.1.2.6.3': ['mount_option_var_log_nosuid'],
  '1.1.2.6.4': ['mount_option_var_log_noexec'],
  '1.1.2.7.1': ['partition_for_var_log_audit'],
  '1.1.2.7.2': ['mount_option_var_log_audit_nodev'],
  '1.1.2.7.3': ['mount_option_var_log_audit_nosuid'],
  '1.1.2.7.4': ['mount_option_var_log_audit_noexec'],
  '1.3.1.1': ['package_apparmor_installed', 'package_apparmor-utils_installed'],
  '1.3.1.2': ['grub2_enable_apparmor'],
  '1.3.1.3': ['all_apparmor_profiles_in_enforce_complain_mode'],
  '1.3.1.4': ['all_apparmor_profiles_enforced'],
  '1.4.1': ['grub2_password', 'grub2_uefi_password'],
  '1.4.2': ['file_owner_grub2_cfg', 'file_permissions_grub2_cfg'],
  '1.5.1': ['sysctl_kernel_randomize_va_space'],
  '1.5.2': ['sysctl_kernel_yama_ptrace_scope'],
  '1.5.3': ['disable_users_coredumps', 'sysctl_fs_suid_dumpable'],
  '1.6.1': ['banner_etc_motd_cis'],
  '1.6.2': ['banner_etc_issue_cis'],
  '1.6.3': ['banner_etc_issue_net_cis'],
  '1.6.4': ['file_groupowner_etc_motd', 'file_owner_etc_motd', 'file_permissions_etc_motd'],
  '1.6.5': ['file_groupowner_etc_issue', 'file_owner_etc_issue', 'file_permissions_etc_issue'],
  '1.6.6': ['file_groupowner_etc_issue_net', 'file_owner_etc_issue_net', 'file_permissions_etc_issue_net'],
  '1.7.1': ['package_gdm_removed'],
  '1.7.2': ['dconf_gnome_banner_enabled', 'dconf_gnome_login_banner_text'],
  '1.7.3': ['dconf_gnome_disable_user_list'],
  '1.7.4': ['dconf_gnome_screensaver_idle_delay', 'dconf_gnome_screensaver_lock_enabled', 'dconf_gnome_screensaver_lock_delay'],
  '1.7.5': ['dconf_gnome_screensaver_idle_delay', 'dconf_gnome_screensaver_lock_enabled', 'dconf_gnome_screensaver_lock_delay'],
  '1.7.6': ['dconf_gnome_disable_automount', 'dconf_gnome_disable_automount_open'],
  '1.7.7': ['dconf_gnome_disable_automount', 'dconf_gnome_disable_automount_open'],
  '1.7.8': ['dconf_gnome_disable_autorun'],
  '1.7.9': ['dconf_gnome_disable_autorun'],
  '1.7.10': ['gnome_gdm_disable_xdmcp'],
  '2.1.1': ['service_autofs_disabled', 'package_autofs_removed'],
  '2.1.2': ['package_avahi_removed', 'service_avahi-daemon_disabled'],
  '2.1.3': ['package_dhcp_removed', 'service_dhcpd_disabled', 'service_dhcpd6_disabled'],
  '2.1.4': ['package_bind_removed', 'service_named_disabled'],
  '2.1.5': ['package_dnsmasq_removed', 'service_dnsmasq_disabled'],
  '2.1.6': ['package_vsftpd_removed', 'service_vsftpd_disabled'],
  '2.1.7': ['package_openldap-servers_removed', 'service_slapd_disabled'],
  '2.1.8': ['package_dovecot_removed', 'service_dovecot_disabled'],
  '2.1.9': ['package_nfs-kernel-server_removed', 'service_nfs_disabled'],
  '2.1.10': ['package_ypserv_removed', 'service_ypserv_disabled'],
  '2.1.11': ['package_cups_removed', 'service_cups_disabled'],
  '2.1.12': ['package_rpcbind_removed', 'service_rpcbind_disabled'],
  '2.1.13': ['package_rsync_removed', 'service_rsyncd_disabled'],
  '2.1.14': ['package_samba_removed', 'service_smb_disabled'],
  '2.1.15': ['package_net-snmp_removed', 'service_snmpd_disabled'],
  '2.1.16': ['package_tftp-server_removed', 'service_tftp_disabled'],
  '2.1.17': ['package_squid_removed', 'service_squid_disabled'],
  '2.1.18': ['package_httpd_removed', 'package_nginx_removed', 'service_httpd_disabled', 'service_nginx_disabled'],
  '2.1.19': ['package_xinetd_removed', 'service_xinetd_disabled'],
  '2.1.20': ['package_xorg-x11-server-common_removed'],
  '2.1.21': ['has_nonlocal_mta', 'postfix_network_listening_disabled'],
  '2.2.1': ['package_nis_removed'],
  '2.2.2': ['package_rsh_removed'],
  '2.2.3': ['package_talk_removed'],
  '2.2.4': ['package_inetutils-telnet_removed', 'package_telnet_removed'],
  '2.2.5': ['package_openldap-clients_removed'],
  '2.2.6': ['package_ftp_removed', 'package_tnftp_removed'],
  '2.3.1.1': ['package_chrony_installed', 'service_chronyd_enabled', 'service_chronyd_disabled', 'package_timesyncd_installed', 'service_timesyncd_enabled', 'service_timesyncd_disabled', 'ntp_single_service_active'],
  '2.3.2.1': ['service_timesyncd_configured'],
  '2.3.3.1': ['chronyd_configure_pool_and_server'],
  '2.3.3.2': ['chronyd_run_as_chrony_user'],
  '2.4.1.1': ['package_cron_installed', 'service_cron_enabled'],
  '2.4.1.2': ['file_cron_allow_exists', 'file_groupowner_crontab', 'file_owner_crontab', 'file_permissions_crontab'],
  '2.4.1.3': ['file_groupowner_cron_hourly', 'file_owner_cron_hourly', 'file_permissions_cron_hourly'],
  '2.4.1.4': ['file_groupowner_cron_daily', 'file_owner_cron_daily', 'file_permissions_cron_daily'],
  '2.4.1.5': ['file_groupowner_cron_weekly', 'file_owner_cron_weekly', 'file_permissions_cron_weekly'],
  '2.4.1.6': ['file_groupowner_cron_monthly', 'file_owner_cron_monthly', 'file_permissions_cron_monthly'],
  '2.4.1.7': ['file_groupowner_cron_d', 'file_owner_cron_d', 'file_permissions_cron_d'],
  '2.4.1.8': ['file_cron_deny_not_exist', 'file_groupowner_cron_allow', 'file_owner_cron_allow', 'file_permissions_cron_allow'],
  '2.4.2.1': ['file_at_allow_exists', 'file_groupowner_at_allow', 'file_owner_at_allow', 'file_permissions_at_allow', 'file_groupowner_at_deny', 'file_owner_at_deny', 'file_permissions_at_deny'],
  '3.1.2': ['wireless_disable_interfaces'],
  '3.1.3': ['service_bluetooth_disabled'],
  '3.2.1': ['kernel_module_dccp_disabled'],
  '3.2.2': ['kernel_module_tipc_disabled'],
  '3.2.3': ['kernel_module_rds_disabled'],
  '3.2.4': ['kernel_module_sctp_disabled'],
  '3.3.1': ['sysctl_net_ipv6_conf_all_forwarding', 'sysctl_net_ipv4_ip_forward'],
  '3.3.2': ['sysctl_net_ipv4_conf_all_send_redirects', 'sysctl_net_ipv4_conf_default_send_redirects'],
  '3.3.3': ['sysctl_net_ipv4_icmp_ignore_bogus_error_responses'],
  '3.3.4': ['sysctl_net_ipv4_icmp_echo_ignore_broadcasts'],
  '3.3.5': ['sysctl_net_ipv6_conf_all_accept_redirects', 'sysctl_net_ipv6_conf_default_accept_redirects', 'sysctl_net_ipv4_conf_all_accept_redirects', 'sysctl_net_ipv4_conf_default_accept_redirects'],
  '3.3.6': ['sysctl_net_ipv4_conf_all_secure_redirects', 'sysctl_net_ipv4_conf_default_secure_redirects'],
  '3.3.7': ['sysctl_net_ipv4_conf_all_rp_filter', 'sysctl_net_ipv4_conf_default_rp_filter'],
  '3.3.8': ['sysctl_net_ipv6_conf_all_accept_source_route', 'sysctl_net_ipv6_conf_default_accept_source_route', 'sysctl_net_ipv4_conf_all_accept_source_route', 'sysctl_net_ipv4_conf_default_accept_source_route'],
  '3.3.9': ['sysctl_net_ipv4_conf_all_log_martians', 'sysctl_net_ipv4_conf_default_log_martians'],
  '3.3.10': ['sysctl_net_ipv4_tcp_syncookies'],
  '3.3.11': ['sysctl_net_ipv6_conf_all_accept_ra', 'sysctl_net_ipv6_conf_default_accept_ra'],
  '4.1.1': ['firewall_single_service_active'],
  '4.2.1': ['package_ufw_installed'],
  '4.2.2': ['package_iptables-persistent_removed'],
  '4.2.3': ['check_ufw_active', 'service_ufw_enabled'],
  '4.2.4': ['set_ufw_loopback_traffic'],
  '4.2.6': ['ufw_rules_for_open_ports'],
  '4.2.7': ['set_ufw_default_rule'],
  '4.3.1': ['package_nftables_installed'],
  '4.3.2': ['package_ufw_removed'],
  '4.3.4': ['set_nftables_table'],
  '4.3.5': ['set_nftables_base_chain'],
  '4.3.6': ['set_nftables_loopback_traffic'],
  '4.3.8': ['nftables_ensure_default_deny_policy'],
  '4.3.9': ['service_nftables_enabled'],
  '4.3.10': ['nftables_rules_permanent'],
  '4.4.1.1': ['package_iptables-persistent_installed', 'package_iptables_installed'],
  '4.4.1.2': ['service_nftables_disabled'],
  '4.4.1.3': ['package_ufw_removed'],
  '4.4.2.1': ['set_iptables_default_rule'],
  '4.4.2.2': ['set_loopback_traffic'],
  '4.4.2.4': ['iptables_rules_for_open_ports'],
  '4.4.3.1': ['set_ip6tables_default_rule'],
  '4.4.3.2': ['set_ipv6_loopback_traffic'],
  '4.4.3.4': ['ip6tables_rules_for_open_ports'],
  '5.1.1': ['file_groupowner_sshd_config', 'file_owner_sshd_config', 'file_permissions_sshd_config'],
  '5.1.2': ['file_permissions_sshd_private_key'],
  '5.1.3': ['file_permissions_sshd_pub_key'],
  '5.1.4': ['sshd_limit_user_access'],
  '5.1.5': ['sshd_enable_warning_banner_net'],
  '5.1.6': ['sshd_use_strong_ciphers'],
  '5.1.7': ['sshd_set_idle_timeout', 'sshd_set_keepalive'],
  '5.1.8': ['sshd_disable_forwarding'],
  '5.1.9': ['sshd_disable_gssapi_auth'],
  '5.1.10': ['disable_host_auth'],
  '5.1.11': ['sshd_disable_rhosts'],
  '5.1.12': ['sshd_use_strong_kex'],
  '5.1.13': ['sshd_set_login_grace_time'],
  '5.1.14': ['sshd_set_loglevel_info'],
  '5.1.15': ['sshd_use_strong_macs'],
  '5.1.16': ['sshd_set_max_auth_tries'],
  '5.1.17': ['sshd_set_max_sessions'],
  '5.1.18': ['sshd_set_maxstartups'],
  '5.1.19': ['sshd_disable_empty_passwords'],
  '5.1.20': ['sshd_disable_root_login'],
  '5.1.21': ['sshd_do_not_permit_user_env'],
  '5.1.22': ['sshd_enable_pam'],
  '5.2.1': ['package_sudo_installed'],
  '5.2.2': ['sudo_add_use_pty'],
  '5.2.3': ['sudo_custom_logfile'],
  '5.2.4': ['sudo_require_authentication'],
  '5.2.5': ['sudo_remove_no_authenticate'],
  '5.2.6': ['sudo_require_reauthentication'],
  '5.2.7': ['ensure_pam_wheel_group_empty', 'use_pam_wheel_group_for_su'],
  '5.3.1.1': ['package_pam_runtime_installed'],
  '5.3.1.2': ['package_pam_modules_installed'],
  '5.3.1.3': ['package_pam_pwquality_installed'],
  '5.3.2.1': ['accounts_password_pam_unix_enabled'],
  '5.3.2.2': ['accounts_passwords_pam_faillock_enabled'],
  '5.3.2.3': ['accounts_password_pam_pwquality_enabled'],
  '5.3.2.4': ['accounts_password_pam_pwhistory_enabled'],
  '5.3.3.1.1': ['accounts_passwords_pam_faillock_deny'],
  '5.3.3.1.2': ['accounts_passwords_pam_faillock_unlock_time'],
  '5.3.3.1.3': ['accounts_passwords_pam_faillock_root_unlock_time'],
  '5.3.3.2.1': ['accounts_password_pam_difok'],
  '5.3.3.2.2': ['accounts_password_pam_minlen'],
  '5.3.3.2.3': ['accounts_password_pam_minclass', 'accounts_password_pam_dcredit', 'accounts_password_pam_lcredit', 'accounts_password_pam_ocredit', 'accounts_password_pam_ucredit'],
  '5.3.3.2.4': ['accounts_password_pam_maxrepeat'],
  '5.3.3.2.5': ['accounts_password_pam_maxsequence'],
  '5.3.3.2.6': ['accounts_password_pam_dictcheck'],
  '5.3.3.2.7': ['accounts_password_pam_enforcing'],
  '5.3.3.2.8': ['accounts_password_pam_enforce_root'],
  '5.3.3.3.1': ['accounts_password_pam_pwhistory_remember'],
  '5.3.3.3.2': ['accounts_password_pam_pwhistory_enforce_root'],
  '5.3.3.3.3': ['accounts_password_pam_pwhistory_use_authtok'],
  '5.3.3.4.1': ['no_empty_passwords_unix'],
  '5.3.3.4.2': ['accounts_password_pam_unix_no_remember'],
  '5.3.3.4.3': ['set_password_hashing_algorithm_systemauth'],
  '5.3.3.4.4': ['accounts_password_pam_unix_authtok'],
  '5.4.1.1': ['accounts_maximum_age_login_defs', 'accounts_password_set_max_life_existing'],
  '5.4.1.2': ['accounts_minimum_age_login_defs', 'accounts_password_set_min_life_existing'],
  '5.4.1.3': ['accounts_password_warn_age_login_defs'],
  '5.4.1.4': ['set_password_hashing_algorithm_logindefs'],
  '5.4.1.5': ['account_disable_post_pw_expiration', 'accounts_set_post_pw_existing'],
  '5.4.1.6': ['accounts_password_last_change_is_in_past'],
  '5.4.2.1': ['accounts_no_uid_except_zero'],
  '5.4.2.2': ['accounts_root_gid_zero'],
  '5.4.2.3': ['groups_no_zero_gid_except_root'],
  '5.4.2.4': ['ensure_root_access_controlled'],
  '5.4.2.5': ['accounts_root_path_dirs_no_write', 'root_path_all_dirs', 'root_path_no_dot', 'no_dirs_unowned_by_root'],
  '5.4.2.6': ['accounts_umask_root'],
  '5.4.2.7': ['no_shelllogin_for_systemaccounts'],
  '5.4.2.8': ['no_invalid_shell_accounts_unlocked'],
  '5.4.3.1': ['no_nologin_in_shells'],
  '5.4.3.2': ['accounts_tmout'],
  '5.4.3.3': ['accounts_umask_etc_bashrc', 'accounts_umask_etc_login_defs', 'accounts_umask_etc_profile'],
  '6.1.1.1': ['service_systemd-journald_enabled'],
  '6.1.1.4': ['logging_services_active'],
  '6.1.2.1.1': ['package_systemd-journal-remote_installed'],
  '6.1.2.1.2': ['systemd_journal_upload_server_tls', 'systemd_journal_upload_url'],
  '6.1.2.1.3': ['service_systemd-journal-upload_enabled'],
  '6.1.2.1.4': ['socket_systemd-journal-remote_disabled'],
  '6.1.2.2': ['journald_disable_forward_to_syslog'],
  '6.1.2.3': ['journald_compress'],
  '6.1.2.4': ['journald_storage'],
  '6.1.3.1': ['package_rsyslog_installed'],
  '6.1.3.2': ['service_rsyslog_enabled'],
  '6.1.3.3': ['journald_forward_to_syslog'],
  '6.1.3.4': ['rsyslog_filecreatemode'],
  '6.1.3.7': ['rsyslog_nolisten'],
  '6.1.4.1': ['file_groupownerships_var_log_apt', 'file_groupownerships_var_log_gdm', 'file_groupownerships_var_log_gdm3', 'file_groupownerships_var_log_landscape', 'file_groupownerships_var_log_sssd', 'file_groupowner_var_log_auth', 'file_groupowner_var_log_cloud_init', 'file_groupowner_var_log_journal', 'file_groupowner_var_log_lastlog', 'file_groupowner_var_log_localmessages', 'file_groupowner_var_log_messages', 'file_groupowner_var_log_secure', 'file_groupowner_var_log_syslog', 'file_groupowner_var_log_waagent', 'file_groupowner_var_log_wbtmp', 'file_ownerships_var_log_apt', 'file_ownerships_var_log_gdm', 'file_ownerships_var_log_gdm3', 'file_ownerships_var_log_landscape', 'file_ownerships_var_log_sssd', 'file_owner_var_log_auth', 'file_owner_var_log_cloud_init', 'file_owner_var_log_journal', 'file_owner_var_log_lastlog', 'file_owner_var_log_localmessages', 'file_owner_var_log_messages', 'file_owner_var_log_secure', 'file_owner_var_log_syslog', 'file_owner_var_log_waagent', 'file_owner_var_log_wbtmp', 'file_permissions_var_log_apt', 'file_permissions_var_log_auth', 'file_permissions_var_log_cloud-init', 'file_permissions_var_log_gdm', 'file_permissions_var_log_gdm3', 'file_permissions_var_log_lastlog', 'file_permissions_var_log_cloud-init', 'file_permissions_var_log_localmessages', 'file_permissions_var_log_messages', 'file_permissions_var_log_secure', 'file_permissions_var_log_sssd', 'file_permissions_var_log_syslog', 'file_permissions_var_log_waagent', 'file_permissions_var_log_wbtmp', 'file_groupownerships_var_log', 'file_ownerships_var_log', 'permissions_local_var_log'],
  '6.2.1.1': ['package_audit_installed', 'package_audit-audispd-plugins_installed'],
  '6.2.1.2': ['service_auditd_enabled'],
  '6.2.1.3': ['grub2_audit_argument', 'zipl_audit_argument'],
  '6.2.1.4': ['grub2_audit_backlog_limit_argument', 'zipl_audit_backlog_limit_argument'],
  '6.2.2.1': ['auditd_data_retention_max_log_file'],
  '6.2.2.2': ['auditd_data_retention_max_log_file_action'],
  '6.2.2.3': ['auditd_data_disk_error_action', 'auditd_data_disk_full_action'],
  '6.2.2.4': ['auditd_data_retention_action_mail_acct', 'auditd_data_retention_admin_space_left_action', 'auditd_data_retention_space_left_action'],
  '6.2.3.1': ['audit_rules_sysadmin_actions'],
  '6.2.3.2': ['audit_rules_suid_auid_privilege_function'],
  '6.2.3.3': ['audit_sudo_log_events'],
  '6.2.3.4': ['audit_rules_time_adjtimex', 'audit_rules_time_clock_settime', 'audit_rules_time_settimeofday', 'audit_rules_time_watch_localtime'],
  '6.2.3.5': ['audit_rules_networkconfig_modification'],
  '6.2.3.6': ['audit_rules_privileged_commands'],
  '6.2.3.7': ['audit_rules_unsuccessful_file_modification_creat', 'audit_rules_unsuccessful_file_modification_ftruncate', 'audit_rules_unsuccessful_file_modification_open', 'audit_rules_unsuccessful_file_modification_openat', 'audit_rules_unsuccessful_file_modification_truncate'],
  '6.2.3.8': ['audit_rules_usergroup_modification_group', 'audit_rules_usergroup_modification_gshadow', 'audit_rules_usergroup_modification_opasswd', 'audit_rules_usergroup_modification_passwd', 'audit_rules_usergroup_modification_shadow', 'audit_rules_usergroup_modification_nsswitch_conf', 'audit_rules_usergroup_modification_pam_conf', 'audit_rules_usergroup_modification_pamd'],
  '6.2.3.9': ['audit_rules_dac_modification_chmod', 'audit_rules_dac_modification_chown', 'audit_rules_dac_modification_fchmod', 'audit_rules_dac_modification_fchmodat', 'audit_rules_dac_modification_fchown', 'audit_rules_dac_modification_fchownat', 'audit_rules_dac_modification_fremovexattr', 'audit_rules_dac_modification_fsetxattr', 'audit_rules_dac_modification_lchown', 'audit_rules_dac_modification_lremovexattr', 'audit_rules_dac_modification_lsetxattr', 'audit_rules_dac_modification_removexattr', 'audit_rules_dac_modification_setxattr'],
  '6.2.3.10': ['audit_rules_media_export'],
  '6.2.3.11': ['audit_rules_session_events'],
  '6.2.3.12': ['audit_rules_login_events_faillock', 'audit_rules_login_events_lastlog'],
  '6.2.3.13': ['audit_rules_file_deletion_events_rename', 'audit_rules_file_deletion_events_renameat', 'audit_rules_file_deletion_events_unlink', 'audit_rules_file_deletion_events_unlinkat'],
  '6.2.3.14': ['audit_rules_mac_modification_etc_apparmor', 'audit_rules_mac_modification_etc_apparmor_d'],
  '6.2.3.15': ['audit_rules_execution_chcon'],
  '6.2.3.16': ['audit_rules_execution_setfacl'],
  '6.2.3.17': ['audit_rules_execution_chacl'],
  '6.2.3.18': ['audit_rules_privileged_commands_usermod'],
  '6.2.3.19': ['audit_rules_kernel_module_loading_delete', 'audit_rules_kernel_module_loading_init', 'audit_rules_kernel_module_loading_finit', 'audit_rules_kernel_module_loading_create', 'audit_rules_kernel_module_loading_query', 'audit_rules_privileged_commands_kmod'],
  '6.2.3.20': ['audit_rules_immutable'],
  '6.2.4.1': ['file_permissions_var_log_audit'],
  '6.2.4.2': ['file_ownership_var_log_audit_stig'],
  '6.2.4.3': ['file_group_ownership_var_log_audit'],
  '6.2.4.4': ['directory_permissions_var_log_audit'],
  '6.2.4.5': ['file_permissions_etc_audit_auditd', 'file_permissions_etc_audit_rules', 'file_permissions_etc_audit_rulesd'],
  '6.2.4.6': ['file_ownership_audit_configuration'],
  '6.2.4.7': ['file_groupownership_audit_configuration'],
  '6.2.4.8': ['file_permissions_audit_binaries'],
  '6.2.4.9': ['file_ownership_audit_binaries'],
  '6.2.4.10': ['file_groupownership_audit_binaries'],
  '6.3.1': ['aide_build_database', 'package_aide_installed'],
  '6.3.2': ['aide_periodic_checking_systemd_timer'],
  '6.3.3': ['aide_check_audit_tools'],
  '7.1.1': ['file_groupowner_etc_passwd', 'file_owner_etc_passwd', 'file_permissions_etc_passwd'],
  '7.1.2': ['file_groupowner_backup_etc_passwd', 'file_owner_backup_etc_passwd', 'file_permissions_backup_etc_passwd'],
  '7.1.3': ['file_groupowner_etc_group', 'file_owner_etc_group', 'file_permissions_etc_group'],
  '7.1.4': ['file_groupowner_backup_etc_group', 'file_owner_backup_etc_group', 'file_permissions_backup_etc_group'],
  '7.1.5': ['file_groupowner_etc_shadow', 'file_owner_etc_shadow', 'file_permissions_etc_shadow'],
  '7.1.6': ['file_groupowner_backup_etc_shadow', 'file_owner_backup_etc_shadow', 'file_permissions_backup_etc_shadow'],
  '7.1.7': ['file_groupowner_etc_gshadow', 'file_owner_etc_gshadow', 'file_permissions_etc_gshadow'],
  '7.1.8': ['file_groupowner_backup_etc_gshadow', 'file_owner_backup_etc_gshadow', 'file_permissions_backup_etc_gshadow'],
  '7.1.9': ['file_owner_etc_shells', 'file_groupowner_etc_shells', 'file_permissions_etc_shells'],
  '7.1.10': ['file_owner_etc_security_opasswd', 'file_groupowner_etc_security_opasswd', 'file_permissions_etc_security_opasswd', 'file_owner_etc_security_opasswd_old', 'file_groupowner_etc_security_opasswd_old', 'file_permissions_etc_security_opasswd_old'],
  '7.1.11': ['file_permissions_unauthorized_world_writable'],
  '7.1.12': ['no_files_unowned_by_user', 'file_permissions_ungroupowned'],
  '7.2.1': ['accounts_password_all_shadowed'],
  '7.2.2': ['no_empty_passwords_etc_shadow'],
  '7.2.3': ['gid_passwd_group_same'],
  '7.2.4': ['ensure_shadow_group_empty'],
  '7.2.5': ['account_unique_id'],
  '7.2.6': ['group_unique_id'],
  '7.2.7': ['account_unique_name'],
  '7.2.8': ['group_unique_name'],
  '7.2.9': ['accounts_user_interactive_home_directory_exists', 'file_groupownership_home_directories', 'file_ownership_home_directories', 'file_permissions_home_directories'],
  '7.2.10': ['no_rsh_trust_files', 'no_forward_files', 'no_netrc_files', 'accounts_user_dot_user_ownership', 'accounts_user_dot_group_ownership', 'file_permission_user_init_files', 'file_permission_user_bash_history'],
};

export const CIS_PROFILES = {
  'level1-server': 'xccdf_org.ssgproject.content_profile_cis_level1_server',
  'level2-server': 'xccdf_org.ssgproject.content_profile_cis_level2_server',
} as const;

export type OscapResult = 'pass' | 'fail' | 'error' | 'unknown' | 'notapplicable' | 'notchecked' | 'notselected' | 'informational' | 'fixed';

export function findOscapChroot(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
    if (dir && existsSync(path.join(dir, 'oscap-chroot')) && existsSync(path.join(dir, 'oscap'))) return path.join(dir, 'oscap-chroot');
  }
  return undefined;
}

export function oscapVersion(): string | undefined {
  const r = spawnSync('oscap', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? /OpenSCAP command line tool \(oscap\) ([\d.]+)/.exec(r.stdout)?.[1] ?? r.stdout.split('\n')[0] : undefined;
}

/** Candidate locations of a Debian 12 data stream; the first one holding the CIS profile is used. */
export function datastreamCandidates(): string[] {
  return [
    process.env.SECLAB_SSG_DS ?? '',
    path.join(cacheDir(), 'ssg', 'ssg-debian12-ds.xml'),
    '/usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml',
  ].filter(Boolean);
}

export function hasProfile(ds: string, profileId: string): boolean {
  try {
    return readFileSync(ds, 'utf8').includes(`id="${profileId}"`);
  } catch {
    return false;
  }
}

export function findCisDatastream(profile: keyof typeof CIS_PROFILES = 'level1-server'): string | undefined {
  return datastreamCandidates().find((ds) => existsSync(ds) && hasProfile(ds, CIS_PROFILES[profile]));
}

export interface OscapRun {
  results: Map<string, OscapResult>;
  ms: number;
  exitCode: number | null;
  resultsFile?: string;
}

/**
 * `oscap-chroot <root> xccdf eval --profile <cis> --results <xml> <ds>`. Exit code 2 means some rule
 * failed (normal); 1 is an error. Rule ids are returned without the xccdf_org.ssgproject.content_rule_ prefix.
 */
export async function runOscap(root: string, ds: string, profile: keyof typeof CIS_PROFILES = 'level1-server', keepResults?: string): Promise<OscapRun> {
  const bin = findOscapChroot();
  if (!bin) throw new Error('oscap-chroot is not installed (apt-get install openscap-scanner)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seclab-oscap-'));
  const out = keepResults ?? path.join(dir, 'results.xml');
  // OpenSCAP's dpkginfo probe (libapt-pkg) reads the *scanning machine's* apt configuration before it
  // sets RootDir to the folder; options there such as Docker's `Dir::Cache::pkgcache "";` make it fail
  // ("dpkginfo_init has failed"), every package check then says "not installed" and every rule whose
  // platform needs a package (most of the CIS profile) becomes notapplicable. An APT_CONFIG that skips
  // /etc/apt/apt.conf.d avoids it.
  const parts = path.join(dir, 'apt.conf.d');
  mkdirSync(parts);
  writeFileSync(path.join(dir, 'apt.conf'), `Dir::Etc::Parts "${parts}";\n`);
  const started = performance.now();
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(bin, [root, 'xccdf', 'eval', '--profile', CIS_PROFILES[profile], '--results', out, ds], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, APT_CONFIG: path.join(dir, 'apt.conf') } });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 || code === 2 ? resolve(code) : reject(new Error(`oscap-chroot exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
  const ms = Math.round(performance.now() - started);
  const results = parseXccdfResults(readFileSync(out, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return { results, ms, exitCode, ...(keepResults ? { resultsFile: keepResults } : {}) };
}

export function parseXccdfResults(xml: string): Map<string, OscapResult> {
  const m = new Map<string, OscapResult>();
  const re = /<(?:xccdf:)?rule-result\b[^>]*\bidref="xccdf_org\.ssgproject\.content_rule_([^"]+)"[^>]*>[\s\S]*?<(?:xccdf:)?result>([a-z]+)<\/(?:xccdf:)?result>/g;
  let x: RegExpExecArray | null;
  while ((x = re.exec(xml))) m.set(x[1]!, x[2] as OscapResult);
  return m;
}

export interface ComparisonRow {
  id: string;
  ours: Status;
  oscap: 'pass' | 'fail' | 'none';
  rules: { rule: string; result: OscapResult | 'absent' }[];
  agree: boolean | null;
}

export interface Comparison {
  rows: ComparisonRow[];
  /** Recommendations both judged pass or fail. */
  compared: number;
  agree: number;
  disagree: ComparisonRow[];
}

/**
 * OpenSCAP's verdict for a recommendation: fail when any mapped rule fails, pass when at least one passes
 * and none fails, none when no mapped rule was judged (not applicable, not checked, not in the content).
 */
export function compare(report: Report, oscap: Map<string, OscapResult>, map: Readonly<Record<string, readonly string[]>> = SSG_CIS_MAP): Comparison {
  const rows: ComparisonRow[] = [];
  for (const r of report.results) {
    const rules = map[r.id];
    if (!rules) continue;
    const rs = rules.map((rule) => ({ rule, result: oscap.get(rule) ?? ('absent' as const) }));
    const verdict = rs.some((x) => x.result === 'fail') ? 'fail' : rs.some((x) => x.result === 'pass') ? 'pass' : 'none';
    const both = (r.status === 'pass' || r.status === 'fail') && verdict !== 'none';
    rows.push({ id: r.id, ours: r.status, oscap: verdict, rules: rs, agree: both ? r.status === verdict : null });
  }
  const judged = rows.filter((x) => x.agree !== null);
  return { rows, compared: judged.length, agree: judged.filter((x) => x.agree).length, disagree: judged.filter((x) => !x.agree) };
}

/**
 * Recommendations where the engine and SSG's CIS profile read the same folder differently, and why.
 * The comparison test fails on any difference not listed here.
 */
const SSHD_DEFAULT = "OpenSSH 9.2's compiled-in default already complies and CIS audits the effective value (sshd -T); SSG's Debian 12 check wants an explicit line in /etc/ssh/sshd_config (it also ignores sshd_config.d, where lab host's reference user data sets it in 01-fabrikam.conf)";

/** Differences seen on lab host's reference host (solutions/host/user-data.yaml applied to a copy of the image). */
const SSHD_DROP_IN = "the reference host sets it in /etc/ssh/sshd_config.d/01-fabrikam.conf, which Debian's sshd_config includes at its top (sshd keeps the first value: sshd -T shows it, which CIS audits); SSG's Debian 12 OVAL is a textfilecontent54 test on the one file /etc/ssh/sshd_config and never reads the drop-ins";

const PWQUALITY_DROP_IN = "the reference host sets it in /etc/security/pwquality.conf.d/60-cis.conf, which pam_pwquality reads (libpwquality 1.4.5 reads pwquality.conf.d/*.conf; CIS's audit greps both); SSG's OVAL only matches ^/etc/security/pwquality.conf$";

const NO_MODULE = "Debian's cloud kernel (linux-image-cloud-amd64) ships no such module, and CIS's audit passes a module that does not exist; SSG only looks for install/blacklist lines in modprobe.d";

export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  '1.1.1.1': NO_MODULE,
  '1.1.1.2': NO_MODULE,
  '1.1.1.3': NO_MODULE,
  '1.1.1.4': NO_MODULE,
  '1.1.1.5': NO_MODULE,
  '1.1.1.9': NO_MODULE,
  '1.1.2.1.1': 'the folder mounts /tmp separately in /etc/fstab (engine: pass, mounted state needs a running system); SSG also requires it to be mounted now, which a folder never is',
  '1.1.2.2.1': 'systemd always mounts /dev/shm (tmpfs, nodev, nosuid), which is what CIS audits with findmnt; SSG\'s partition_for_dev_shm is a partition_test on the mounted state only, which a folder never has (the reference host has the /etc/fstab line and still fails it)',
  '1.1.2.2.2': 'as 1.1.2.2.1: systemd\'s /dev/shm has nodev; SSG wants it in /etc/fstab',
  '1.1.2.2.3': 'as 1.1.2.2.1: systemd\'s /dev/shm has nosuid; SSG wants it in /etc/fstab',
  '1.6.1': 'CIS also fails a banner naming the OS (ID from os-release, "debian"); SSG only looks for the \\m \\r \\s \\v escapes',
  '1.6.2': 'as 1.6.1 (Debian\'s /etc/issue reads "Debian GNU/Linux 12")',
  '1.6.3': 'as 1.6.1 (Debian\'s /etc/issue.net reads "Debian GNU/Linux 12")',
  '2.3.1.1': 'CIS accepts chrony or systemd-timesyncd (Debian\'s EC2 image uses chrony); SSG\'s profile pins var_timesync_service=systemd-timesyncd',
  '2.4.1.8': 'CIS requires /etc/cron.allow to exist; SSG files that check (file_cron_allow_exists) under 2.4.1.2 and only checks the owner and mode of cron.allow when present',
  '5.1.6': SSHD_DEFAULT,
  '5.1.9': SSHD_DEFAULT,
  '5.1.10': SSHD_DEFAULT,
  '5.1.11': SSHD_DEFAULT,
  '5.1.12': SSHD_DEFAULT,
  '5.1.14': 'CIS accepts LogLevel INFO or VERBOSE (and INFO is the default); SSG\'s sshd_set_loglevel_info wants an explicit INFO',
  '5.1.17': SSHD_DEFAULT,
  '5.1.19': SSHD_DEFAULT,
  '5.1.21': SSHD_DEFAULT,
  '5.2.6': 'sudo\'s default timestamp_timeout is 15 minutes, which complies; SSG wants an explicit Defaults timestamp_timeout line',
  '5.3.3.1.1': 'CIS allows deny = 5 or fewer (the hardening sets 5); SSG\'s profile sets var_accounts_passwords_pam_faillock_deny=4',
  '5.4.1.4': 'CIS accepts ENCRYPT_METHOD SHA512 or YESCRYPT (Debian 12 ships SHA512); SSG\'s profile selects yescrypt only',
  '5.4.2.5': 'the engine checks root\'s PATH from login.defs ENV_SUPATH; SSG\'s root_path rules read the PATH of the scanning process (oscap-chroot runs on the scanning machine), not the folder\'s',
  '5.4.3.2': 'the hardening and the reference host write POSIX "readonly TMOUT=900 ; export TMOUT", which CIS accepts; SSG only recognises "typeset -xr"/"declare -xr", which dash (Debian\'s /bin/sh, which reads /etc/profile.d) does not have',
  '6.1.2.2': 'journald\'s default ForwardToSyslog=no complies; SSG wants an explicit line in /etc/systemd/journald.conf (the reference host sets it in journald.conf.d/60-cis.conf, which journald reads and SSG does not)',
  '6.1.2.3': 'journald\'s default Compress=yes complies; SSG wants an explicit line in /etc/systemd/journald.conf (the reference host sets it in journald.conf.d/60-cis.conf, which journald reads and SSG does not)',
  '6.1.2.4': 'the hardening and the reference host set Storage=persistent in /etc/systemd/journald.conf.d/60-cis.conf, which journald reads; SSG only reads /etc/systemd/journald.conf',
  // Lab host's reference host only.
  '5.1.5': SSHD_DROP_IN,
  '5.1.7': SSHD_DROP_IN,
  '5.1.8': SSHD_DROP_IN,
  '5.1.13': SSHD_DROP_IN,
  '5.1.15': SSHD_DROP_IN,
  '5.1.16': SSHD_DROP_IN,
  '5.1.20': SSHD_DROP_IN,
  '5.3.3.2.1': PWQUALITY_DROP_IN,
  '5.3.3.2.2': PWQUALITY_DROP_IN,
  '5.3.3.2.3': `${PWQUALITY_DROP_IN} (minclass = 4; SSG also fails its dcredit/ucredit/lcredit/ocredit rules, which CIS offers as an alternative to minclass)`,
  '5.3.3.2.4': PWQUALITY_DROP_IN,
  '5.3.3.2.5': PWQUALITY_DROP_IN,
  '5.3.3.2.6': PWQUALITY_DROP_IN,
  '5.3.3.2.7': PWQUALITY_DROP_IN,
  '5.3.3.2.8': PWQUALITY_DROP_IN,
  '5.4.3.3': 'the reference host sets umask 027 in /etc/profile.d/60-cis.sh (and nothing weaker anywhere), which CIS\'s audit accepts; SSG also requires a umask line in /etc/bash.bashrc (accounts_umask_etc_bashrc), where Debian has none',
  '6.3.1': 'CIS 6.3.1 "Ensure AIDE is installed" audits the aide and aide-common packages only; SSG adds aide_build_database (the database file must exist), and on the host model aideinit fails ("Unable to set capabilities": the sandbox grants no CAP_SETPCAP; solutions/host/README.md, limits), so there is no /var/lib/aide/aide.db in the folder',
  '7.2.10': 'the admins\' dot files from /etc/skel (.bashrc, .profile, .bash_logout) are 0644, which CIS 7.2.10 accepts (0644 or stricter; 0600 for .netrc and .bash_history); SSG\'s file_permission_user_init_files wants 0740 or stricter (a STIG value)',
};
