;;; eglot_client.el --- Emacs eglot as the client of `tierwise serve'  -*- lexical-binding: t -*-

;; Run with `emacs --batch -l eglot_client.el'.  It sets eglot up the way docs/editors.md
;; says, opens TW_FILE, and drives eglot as a user does: `eglot-code-actions' with the cursor
;; on `def', on the function's name and in its body, then picks the review action.  Only the
;; minibuffer is scripted (the completing-read that picks an action).  What it observed goes
;; to the JSON file TW_OUT: the code action titles, every codeAction range eglot sent, and the
;; diagnostics flymake received.

(require 'eglot)
(require 'flymake)
(require 'json)
(require 'cl-lib)

(defvar tw-observed nil "What the run saw, as an alist written to TW_OUT.")
(defvar tw-ranges nil "Every codeAction range eglot sent, newest first.")
(defvar tw-pick nil "The action title prefix to pick in the next completing-read, or nil.")
(defvar tw-menu nil "The titles offered by the last completing-read.")

(defun tw-put (key value)
  (setq tw-observed (cons (cons key value) (assq-delete-all key tw-observed))))

(defun tw-wait (seconds what predicate)
  "Let the server's messages in until PREDICATE holds, or fail naming WHAT."
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "timed out waiting for %s" what))
      (accept-process-output nil 0.05))))

;; Record the range of every textDocument/codeAction request, as sent.
(advice-add 'jsonrpc-request :before
            (lambda (_connection method params &rest _)
              (when (eq method :textDocument/codeAction)
                (push (plist-get params :range) tw-ranges))))

;; The minibuffer: record the menu, pick the entry named by `tw-pick', or give up.
(defun tw-completing-read (_prompt collection &rest _)
  (setq tw-menu (mapcar (lambda (item) (if (consp item) (car item) item)) collection))
  (or (and tw-pick (cl-find-if (lambda (title) (string-prefix-p tw-pick title)) tw-menu))
      (throw 'tw-no-pick nil)))

(defun tw-code-actions (pick)
  "Call `eglot-code-actions' as M-x does; returns (RANGE . TITLES)."
  (setq tw-pick pick tw-menu nil)
  (cl-letf (((symbol-function 'completing-read) #'tw-completing-read))
    ;; A key press, not a mouse click, started the command: eglot asks in the minibuffer.
    (let ((last-nonmenu-event ?a))
      (catch 'tw-no-pick
        (call-interactively #'eglot-code-actions))))
  (cons (car tw-ranges) tw-menu))

(defun tw-goto (needle)
  "Put point at the start of the first NEEDLE."
  (goto-char (point-min))
  (search-forward needle)
  (goto-char (match-beginning 0)))

(defun tw-range-json (range)
  (let ((start (plist-get range :start)) (end (plist-get range :end)))
    `((start . ((line . ,(plist-get start :line)) (character . ,(plist-get start :character))))
      (end . ((line . ,(plist-get end :line)) (character . ,(plist-get end :character)))))))

(defun tw-main ()
  ;; The setup from docs/editors.md.
  (with-eval-after-load 'eglot
    (add-to-list 'eglot-server-programs
                 '((python-mode python-ts-mode) . ("tierwise" "serve"))))
  (let ((root (file-name-as-directory (getenv "TW_ROOT"))))
    ;; A directory without version control is a project too (as `project-remember-projects-under'
    ;; would make it).
    (add-hook 'project-find-functions (lambda (_dir) (cons 'transient root))))
  (find-file (getenv "TW_FILE"))
  (python-mode)
  (eglot-ensure)
  (run-hooks 'post-command-hook)  ; eglot-ensure connects after the next command
  (tw-wait 60 "eglot to connect" (lambda () (eglot-current-server)))
  (let ((server (eglot-current-server)))
    (tw-wait 30 "the server to initialize"
             (lambda () (plist-get (eglot--capabilities server) :codeActionProvider)))
    (tw-put 'server_name (plist-get (eglot--server-info server) :name)))
  (flymake-start)
  (tw-put 'flymake_backends (mapcar #'symbol-name flymake-diagnostic-functions))

;; What eglot sends with the cursor on `def', on the name, and in the body.
  (dolist (spot '((def_start "def find_user" 0) (def_inside "def find_user" 1)
                  (name_start "find_user(" 0) (name_inside "find_user(" 4)
                  (name_end "find_user(" 9)))
    (tw-goto (nth 1 spot))
    (forward-char (nth 2 spot))
    (let ((seen (tw-code-actions nil)))
      (tw-put (nth 0 spot)
              `((range . ,(tw-range-json (car seen))) (titles . ,(vconcat (cdr seen)))))))
  (tw-goto "conn.execute")
  ;; Review, picked from the menu: eglot runs its command (workspace/executeCommand).
  (let ((seen (tw-code-actions "Review · ")))
    (tw-put 'in_body `((range . ,(tw-range-json (car seen))) (titles . ,(vconcat (cdr seen))))))
  (tw-wait 60 "flymake diagnostics" (lambda () (flymake-diagnostics)))
  (tw-put 'diagnostics
          (vconcat
           (mapcar (lambda (d)
                     `((line . ,(line-number-at-pos (flymake-diagnostic-beg d)))
                       (text . ,(flymake-diagnostic-text d))
                       (type . ,(symbol-name (flymake-diagnostic-type d)))
                       (backend . ,(symbol-name (flymake-diagnostic-backend d)))))
                   (flymake-diagnostics))))
  (tw-put 'buffer_modified (buffer-modified-p))
  ;; The finding's quick fix, picked from the menu: eglot applies its edit, then runs its
  ;; command (tierwise.fixChosen), so the server learns which fix was chosen.
  (tw-goto "return {\"id\"")
  (tw-code-actions "Fix: ")
  (tw-wait 30 "the quick fix" (lambda () (save-excursion
                                           (goto-char (point-min))
                                           (search-forward "# checked" nil t))))
  (tw-put 'fixed_line (buffer-substring-no-properties (line-beginning-position)
                                                      (line-end-position)))
  (set-buffer-modified-p nil)
  ;; Explain: eglot 1.9 cannot open documents, so the server sends the markdown as a message.
  (tw-goto "def find_user")
  (tw-code-actions "Explain · ")
  (tw-wait 60 "the explanation in *Messages*"
           (lambda () (with-current-buffer "*Messages*"
                        (string-match-p "What find_user does" (buffer-string)))))
  (tw-put 'messages (with-current-buffer "*Messages*" (buffer-string)))
  (eglot-shutdown (eglot-current-server)))

(condition-case err
    (tw-main)
  (error (tw-put 'error (error-message-string err))))
(with-temp-file (getenv "TW_OUT")
  (insert (json-encode tw-observed)))
(kill-emacs 0)

;;; eglot_client.el ends here
